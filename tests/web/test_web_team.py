"""The team inbox without a browser, on SQLite and PostgreSQL: search through one interface on
both engines, assignment, notes, tags, bulk close with refusals, the live check endpoint, "send
now" for approvers only, the handoff, history without raw codes, the 500 page, and the same
actions from the CLI."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from models import Role
from monitor import cli
from monitor.decisions import Actor
from monitor.queue import QueueFilter
from web_helpers import csrf_of, decisions_of, events, form_post, open_post, post_of, posted

ANNA = Actor("anna", Role.approver)


def ids(items) -> list[int]:
    return [item.id for item in items]


def test_search_matches_words_in_text_and_author_on_both_databases(monitor):
    seeded = monitor.seeded
    assert ids(monitor.search("pozew")) == [seeded["legal"]]
    assert ids(monitor.search("POZEW piątku")) == [seeded["legal"]]          # every word, any case
    assert ids(monitor.search("kowalcz")) == [seeded["legal"]]               # author, as a prefix
    assert ids(monitor.search("coffee machine")) == [seeded["damaged"]]
    assert monitor.search("pozew parcel") == []                              # both words must match
    assert set(ids(monitor.search("parcel"))) == {seeded["late"], seeded["damaged"]}
    # what people type is words, never query syntax or SQL
    for hostile in ('"', "pozew OR 1=1", "NEAR(", "*", "'; DROP TABLE post; --", "a:*|b"):
        monitor.search(hostile)
    assert ids(monitor.search('"pozew"')) == [seeded["legal"]]
    # an edited text is found by its new words (the index follows updates)
    with monitor.db.session() as session:
        from models import Post
        post = session.get(Post, seeded["formula"])
        post.text = "Where is my umbrella order?"
        session.add(post)
    assert ids(monitor.search("umbrella")) == [seeded["formula"]]
    assert monitor.search("=1+1 typed") == []


def test_queue_filters_and_sorts(monitor):
    seeded = monitor.seeded
    monitor.tag(seeded["late"], ANNA, ("shipping",))
    monitor.tag(seeded["damaged"], ANNA, ("shipping", "damage"))
    assert set(ids(monitor.queue(QueueFilter(tag="shipping")))) == {seeded["late"], seeded["damaged"]}
    assert ids(monitor.queue(QueueFilter(tag="damage"))) == [seeded["damaged"]]
    oldest = ids(monitor.queue(QueueFilter(sort="age", limit=100)))
    created = [post_of(monitor, i).created_at for i in oldest]
    assert created == sorted(created)
    widest = ids(monitor.queue(QueueFilter(sort="reach", limit=100)))
    reach = [post_of(monitor, i).author_reach for i in widest]
    assert reach == sorted(reach, reverse=True)
    # keyset pages in the other orders cover everything once
    pages, after = [], None
    while True:
        page = ids(monitor.queue(QueueFilter(sort="reach", limit=3, after=after)))
        if not page:
            break
        pages += page
        after = page[-1]
    assert pages == widest


def test_assign_to_me_a_colleague_or_a_team(client_for, monitor):
    post_id = monitor.seeded["late"]
    anna = client_for("anna")
    assert form_post(anna, post_id, "assign", to="legal").status_code == 303
    assert post_of(monitor, post_id).assigned_to == "legal" and post_of(monitor, post_id).claimed_by is None
    assert form_post(anna, post_id, "assign", to="olek").status_code == 303
    assert post_of(monitor, post_id).assigned_to == "olek"
    assert form_post(anna, post_id, "assign", to="nobody-here").status_code == 404
    assert post_of(monitor, post_id).assigned_to == "olek"
    assert [e.details["assigned_to"] for e in events(monitor, "post.assign")] == ["legal", "olek"]
    assert monitor.seeded["late"] in ids(monitor.queue(QueueFilter(assigned_to="olek")))


def test_notes_are_internal_and_audited(client_for, monitor, fake):
    post_id = monitor.seeded["damaged"]
    olek = client_for("olek")
    assert form_post(olek, post_id, "note", note="She sent photos by e-mail").status_code == 303
    page = open_post(olek, post_id)
    assert "She sent photos by e-mail" in page and 'id="notes"' in page
    [event] = events(monitor, "post.note")
    assert (event.actor, event.post_id, event.details["note"]) == ("olek", post_id, "She sent photos by e-mail")
    assert form_post(olek, post_id, "note", note="   ").status_code == 409        # empty: refused, said why
    assert form_post(olek, post_id, "note", note="x" * 2001).status_code == 400
    assert monitor.show(post_id).draft["text"] != "She sent photos by e-mail"   # never a draft
    monitor.approve(post_id, ANNA, text=monitor.show(post_id).draft["text"])
    monitor.post_approved()
    assert all("photos" not in text for _, text in posted(fake))


def test_tags_add_remove_and_refuse_junk(client_for, monitor):
    post_id = monitor.seeded["praise"]
    anna = client_for("anna")
    assert form_post(anna, post_id, "tags", add="Praise, #Delivery").status_code == 303
    assert post_of(monitor, post_id).tags == " delivery praise "
    assert form_post(anna, post_id, "tags", remove="delivery").status_code == 303
    assert post_of(monitor, post_id).tags == " praise "
    assert form_post(anna, post_id, "tags", add="<script>").status_code == 409
    assert post_of(monitor, post_id).tags == " praise "


def test_bulk_close_closes_what_it_may_and_says_what_stays(client_for, monitor):
    a, b, held = monitor.seeded["thanks_a"], monitor.seeded["thanks_b"], monitor.seeded["praise"]
    bob = client_for("bob")
    assert form_post(bob, held, "assign").status_code == 303           # bob holds one of them
    anna = client_for("anna")
    token = csrf_of(open_post(anna, a))
    response = anna.post("/queue/close", data={"csrf_token": token, "post": [str(a), str(b), str(held)],
                                               "reason": "praise, no answer needed"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Closed 2 posts" in response.text and f"Post {held} stays open: bob is working on post" in response.text
    assert post_of(monitor, a).status == post_of(monitor, b).status == "rejected"
    assert post_of(monitor, held).status == "open"
    assert [d.reason for d in decisions_of(monitor, a)] == ["praise, no answer needed"]
    # agents may not close, and a close needs a reason
    olek = client_for("olek")
    token = csrf_of(open_post(olek, held))
    assert olek.post("/queue/close", data={"csrf_token": token, "post": [str(held)], "reason": "spam"},
                     follow_redirects=False).status_code == 403
    assert form_post(anna, monitor.seeded["spam"], "close", reason="").status_code == 409
    assert post_of(monitor, monitor.seeded["spam"]).status == "open"


def test_a_no_reply_post_offers_close_instead_of_an_empty_approve(client_for, monitor):
    anna = client_for("anna")
    page = open_post(anna, monitor.seeded["spam"])
    assert "No reply needed" in page and 'id="close-no-reply-button"' in page
    response = form_post(anna, monitor.seeded["spam"], "close", reason="no reply needed (spam or do-not-reply)")
    assert response.status_code == 303
    assert post_of(monitor, monitor.seeded["spam"]).status == "rejected"


def test_live_check_counts_and_finds_like_approval(client_for, monitor):
    post_id = monitor.seeded["damaged"]
    anna = client_for("anna")
    token = csrf_of(open_post(anna, post_id))
    result = anna.post(f"/posts/{post_id}/check", data={"csrf_token": token, "text": "Sorry! See https://evil.example"}).json()
    assert result["length"] == len("Sorry! See https://evil.example") and result["limit"] == 8000
    assert [f["code"] for f in result["findings"]] == ["link"] and result["blocking"] == 1
    assert anna.post(f"/posts/{post_id}/check", data={"text": "x"}).status_code == 403      # CSRF as every post
    assert monitor.check_reply(post_id, "fine, thank you")["findings"] == []


def test_x_replies_are_counted_weighted(monitor):
    assert monitor.safety.measure("see https://demo-shop.example/a/very/long/path " + "🙂", "x") == \
        len("see ") + 23 + 1 + 2


def test_send_now_is_the_posting_run_for_approvers_only(client_for, monitor, fake):
    post_id = monitor.seeded["damaged"]
    text = monitor.show(post_id).draft["text"]
    monitor.approve(post_id, ANNA, text=text)
    olek = client_for("olek")
    token = csrf_of(olek.get("/outbox").text)
    assert olek.post("/outbox/send", data={"csrf_token": token}, follow_redirects=False).status_code == 403
    assert posted(fake) == []
    anna = client_for("anna")
    page = anna.get("/outbox").text
    assert 'id="send-now-button"' in page
    response = anna.post("/outbox/send", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "Posted 1 reply" in response.text
    assert [t for _, t in posted(fake)] == [text]
    response = anna.post("/outbox/send", data={"csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "Posted 0 replies" in response.text and len(posted(fake)) == 1   # at most once


def test_a_proposal_hands_off_and_waits_in_its_own_view(client_for, monitor):
    post_id = monitor.seeded["late"]
    olek = client_for("olek")
    assert form_post(olek, post_id, "assign").status_code == 303          # olek takes it, then proposes
    assert form_post(olek, post_id, "propose", text="Sorry, we are on it. Please send your order number.").status_code == 303
    post = post_of(monitor, post_id)
    assert post.proposed_by == "olek" and post.claimed_by is None
    anna = client_for("anna")
    page = anna.get("/queue?proposals=1").text
    assert re.findall(r'data-post="(\d+)"', page) == [str(post_id)]
    assert form_post(anna, post_id, "approve", text="Sorry, we are on it. Please send your order number.").status_code == 303
    assert post_of(monitor, post_id).proposed_by is None
    assert "data-post=" not in anna.get("/queue?proposals=1").text


def test_history_reads_as_sentences(client_for, monitor):
    post_id = monitor.seeded["legal"]
    monitor.escalate(post_id, ANNA, "legal", "threatens to sue")
    page = open_post(client_for("bob"), post_id)
    history = page[page.index('id="history"'):]
    assert "escalated it to legal: threatens to sue" in history and "decision.escalate" not in history


def test_urgency_is_said_in_plain_words_with_details_one_click_away(client_for, monitor):
    page = open_post(client_for("anna"), monitor.seeded["legal"])
    assert re.search(r'id="urgency">Critical: legal threat \(pozew\), 41 likes, (\d+ (min|h)|\d+ d) (late|\w)', page) \
        or "Critical: legal threat (pozew), 41 likes" in page
    assert '<details class="why card"' in page and "severity 0.95" in page   # the figures, folded away


def test_an_unexpected_error_is_a_proper_page_without_a_traceback(app, monitor, monkeypatch):
    from fastapi.testclient import TestClient
    from web_helpers import sign_in
    anna = TestClient(app, raise_server_exceptions=False)
    assert sign_in(anna, "anna").status_code == 303
    monkeypatch.setattr(type(monitor), "queue_count", lambda *a, **k: 1 / 0)
    response = anna.get("/queue")
    assert response.status_code == 500
    assert "Sorry, something broke on our side" in response.text and "<!doctype html>" in response.text
    assert "ZeroDivisionError" not in response.text and "Traceback" not in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_cli_has_the_same_actions(monitor, tmp_path, database_url):
    env = {"MONITOR_DATABASE_URL": database_url}
    run = lambda *args: CliRunner().invoke(cli.app, ["--settings", str(tmp_path / "settings.toml"), "--as", "carl",  # noqa: E731
                                                     *args], env=env)
    late, thanks = monitor.seeded["late"], monitor.seeded["thanks_a"]
    result = run("assign", str(late), "--to", "legal")
    assert result.exit_code == 0 and "assigned to legal" in result.output
    assert run("note", str(late), "called the carrier").exit_code == 0
    assert run("tag", str(late), "shipping").exit_code == 0
    result = run("search", "pozew", "--json")
    assert result.exit_code == 0 and f'"id": {monitor.seeded["legal"]}' in result.output
    assert run("search", "!!!").exit_code == 2
    result = run("close", str(thanks), str(late), "--reason", "praise")
    assert result.exit_code == 0 and "closed without a reply" in result.output
    assert post_of(monitor, late).assigned_to == "legal" and post_of(monitor, late).tags == " shipping "
    assert [e.details["note"] for e in events(monitor, "post.note")] == ["called the carrier"]
    assert [e.actor for e in events(monitor, "post.close")] == ["carl", "carl"]


def change_on_platform(monitor, post_id: int, text: str) -> None:
    """What a poll stores when the platform reports an edited text (the collect path's upsert)."""
    from datetime import timedelta
    from connectors.base import CollectedItem
    from models import Source, as_utc
    from monitor.store import store_items
    from sqlmodel import select
    post = post_of(monitor, post_id)
    with monitor.db.session() as session:
        source = session.exec(select(Source)).first()
        store_items(session, "facebook", source.id, [CollectedItem(
            external_id=post.external_id, kind=post.kind, text=text, created_at=as_utc(post.created_at),
            author_handle=post.author_handle, author_reach=post.author_reach, thread_id=post.thread_id,
            parent_id=post.parent_id, likes=post.likes, extra=dict(post.extra))],
            lambda item: item.created_at + timedelta(hours=1))


def test_a_closed_post_that_changes_is_open_again_with_a_warning_and_a_fresh_draft(client_for, monitor):
    post_id = monitor.seeded["thanks_a"]
    monitor.close_posts([post_id], ANNA, "praise")
    old_draft = monitor.show(post_id).draft["id"]
    change_on_platform(monitor, post_id, "Update: the second parcel never came. I want my money back.")
    post = post_of(monitor, post_id)
    assert post.status == "open" and post.changed_at is not None
    assert events(monitor, "post.changed")[-1].details == {"status": "rejected", "reopened": True}
    monitor.process()
    assert monitor.show(post_id).draft["id"] != old_draft
    page = open_post(client_for("anna"), post_id)
    assert 'id="changed-banner"' in page and "is open again" in page
    # deciding again clears the warning
    monitor.close_posts([post_id], ANNA, "answered by phone")
    assert post_of(monitor, post_id).changed_at is None
    # an open post that changes is simply redrafted: no warning
    change_on_platform(monitor, monitor.seeded["formula"], "Where is my order 123?")
    assert post_of(monitor, monitor.seeded["formula"]).changed_at is None


def test_posts_flagged_per_day_counts_each_post_once(monitor):
    from datetime import datetime
    from models import Post, utcnow
    from monitor import reports
    from sqlmodel import col, func, select
    with monitor.db.session() as session:          # one post with three reasons still counts once
        legal = session.get(Post, monitor.seeded["legal"])
        legal.flag_codes = " anger legal_threat negative "
        session.add(legal)
    with monitor.db.session() as session:
        figures = reports.dashboard(session, utcnow(), monitor.settings.app.timezone, 14)
        since = reports.day_start_utc(figures.days[0], __import__("zoneinfo").ZoneInfo(monitor.settings.app.timezone))
        flagged = session.exec(select(func.count()).select_from(Post).where(col(Post.flagged).is_(True),
                                                                           col(Post.created_at) >= since)).one()
    assert sum(sum(values) for values in figures.flagged_by_reason.values()) == flagged > 0
    assert reports.main_reason(" anger legal_threat negative ") == "legal_threat"
    assert reports.main_reason("") == "other"
    assert isinstance(figures.days[0], type(datetime.now().date()))
