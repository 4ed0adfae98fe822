"""The queue screen's actions on SQLite and PostgreSQL: roles, locks, approve (as drafted,
edited, with an override), reject, escalate, and that a web approval is the CLI's decision."""
from __future__ import annotations

import re

from sqlmodel import select
from typer.testing import CliRunner

from models import OutboxReply
from monitor import cli
from web_helpers import csrf_of, decisions_of, draft_text, events, form_post, open_post, post_of, posted


def test_an_agent_cannot_approve_or_reject_but_can_propose_and_escalate(client_for, monitor):
    post_id = monitor.seeded["damaged"]
    agent = client_for("olek")
    page = open_post(agent, post_id)
    assert 'id="approve-button"' not in page and 'id="reject-form"' not in page
    assert 'id="propose-button"' in page
    response = form_post(agent, post_id, "approve", text=draft_text(monitor, post_id))
    assert response.status_code == 403
    assert "olek is agent" in response.text
    assert form_post(agent, post_id, "reject", reason="no").status_code == 403
    assert post_of(monitor, post_id).status == "open"
    assert decisions_of(monitor, post_id) == []
    with monitor.db.session() as session:
        assert session.exec(select(OutboxReply).where(OutboxReply.post_id == post_id)).first() is None

    edited = "Hello, we are very sorry. Please send us a photo in a private message and we will replace it."
    assert form_post(agent, post_id, "propose", text=edited).status_code == 303
    assert draft_text(monitor, post_id) == edited
    assert events(monitor, "draft.propose")[-1].actor == "olek"

    assert form_post(agent, post_id, "escalate", to="logistics", reason="courier damage").status_code == 303
    post = post_of(monitor, post_id)
    assert post.status == "escalated"
    assert decisions_of(monitor, post_id)[-1].escalate_to == "logistics"


def test_a_taken_post_shows_a_colleagues_lock_and_holds_decisions(client_for, monitor):
    post_id = monitor.seeded["late"]
    anna, bob = client_for("anna"), client_for("bob")
    assert "You hold this post" not in open_post(anna, post_id)    # looking never locks
    assert post_of(monitor, post_id).claimed_by is None
    assert form_post(anna, post_id, "assign").status_code == 303
    assert "You hold this post" in open_post(anna, post_id)
    assert post_of(monitor, post_id).claimed_by == "anna"
    page = open_post(bob, post_id)
    assert "anna</bdi> is on it" in page
    # bob's list shows the lock too, and his decision waits
    assert 'class="lock-badge" title="working on it"><bdi>anna</bdi> on it<' in page
    response = form_post(bob, post_id, "approve", text=draft_text(monitor, post_id))
    assert response.status_code == 409 and "anna is working on post" in response.text
    assert post_of(monitor, post_id).status == "open"
    # anna releases it: bob may take it
    assert form_post(anna, post_id, "release").status_code == 303
    assert "is on it" not in open_post(bob, post_id)
    assert form_post(bob, post_id, "assign").status_code == 303
    assert post_of(monitor, post_id).claimed_by == "bob"


def test_the_queue_opens_the_first_post_nobody_else_holds(client_for, monitor):
    anna, bob = client_for("anna"), client_for("bob")
    first = anna.get("/queue").text
    held = int(re.search(r'data-post-id="(\d+)"', first).group(1))
    assert form_post(anna, held, "assign").status_code == 303
    other = int(re.search(r'data-post-id="(\d+)"', bob.get("/queue").text).group(1))
    assert held != other


def test_assign_to_me_and_release(client_for, monitor):
    post_id = monitor.seeded["question"]
    anna = client_for("anna")
    assert form_post(anna, post_id, "assign").status_code == 303
    post = post_of(monitor, post_id)
    assert post.assigned_to == "anna" and post.claimed_by == "anna"
    assert events(monitor, "post.assign")[-1].post_id == post_id
    bob = client_for("bob")
    assert "anna</bdi> is on it" in open_post(bob, post_id)
    assert form_post(bob, post_id, "assign").status_code == 409
    assert form_post(anna, post_id, "release").status_code == 303
    assert post_of(monitor, post_id).claimed_by is None


def test_web_approval_writes_the_same_audit_event_as_the_cli(client_for, monitor, tmp_path, database_url):
    web_post, cli_post = monitor.seeded["late"], monitor.seeded["late_followup"]
    anna = client_for("anna")
    assert form_post(anna, web_post, "approve", text=draft_text(monitor, web_post)).status_code == 303
    result = CliRunner().invoke(cli.app, ["--settings", str(tmp_path / "settings.toml"), "--as", "carl",
                                          "approve", str(cli_post), "--draft", str(monitor.show(cli_post).draft["id"])],
                           env={"MONITOR_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    web_event, cli_event = events(monitor, "decision.approve")
    assert (web_event.actor, web_event.post_id) == ("anna", web_post)
    assert (cli_event.actor, cli_event.post_id) == ("carl", cli_post)
    assert web_event.details.keys() == cli_event.details.keys()
    assert web_event.details["edited"] is False and cli_event.details["edited"] is False
    assert web_event.details["text"] == draft_text(monitor, web_post)
    assert cli_event.details["text"] == draft_text(monitor, cli_post)
    web_decision, cli_decision = decisions_of(monitor, web_post)[0], decisions_of(monitor, cli_post)[0]
    assert web_decision.model_dump().keys() == cli_decision.model_dump().keys()
    assert (web_decision.draft_id, cli_decision.draft_id) == (monitor.show(web_post).draft["id"],
                                                             monitor.show(cli_post).draft["id"])
    with monitor.db.session() as session:
        outbox = session.exec(select(OutboxReply).where(OutboxReply.post_id == web_post)).one()
    assert outbox.text == draft_text(monitor, web_post)


def test_edit_and_approve_posts_exactly_the_edited_text(client_for, monitor, fake):
    post_id = monitor.seeded["damaged"]
    edited = "Hello! We are so sorry. Send us a photo in a private message and we will send a new machine."
    anna = client_for("anna")
    response = form_post(anna, post_id, "approve", text=edited)
    assert response.status_code == 303
    assert "post=" in response.headers["location"]       # on to the next post
    event = events(monitor, "decision.approve")[-1]
    assert event.details["edited"] is True and event.details["text"] == edited
    report = monitor.post_approved()
    assert len(report.sent) == 1
    assert posted(fake) == [(fake.seeded["damaged"][1], edited)]
    assert post_of(monitor, post_id).status == "posted"
    reply_id = fake.replies("facebook")[0]["id"]
    page = anna.get(f"/queue?status=posted&post={post_id}").text
    assert 'id="outbox-state">sent<' in page and f'id="reply-id">{reply_id}<' in page


def test_blocking_findings_need_an_override_reason(client_for, monitor):
    post_id = monitor.seeded["link"]
    anna = client_for("anna")
    page = open_post(anna, post_id)
    assert "finding-block" in page and 'id="override-box">' in page
    text = draft_text(monitor, post_id)
    response = form_post(anna, post_id, "approve", text=text)
    assert response.status_code == 409
    assert "public-safety findings" in response.text and 'id="override-box" data-required="1">' in response.text
    assert post_of(monitor, post_id).status == "open"
    response = form_post(anna, post_id, "approve", text=text, override_reason="the refunds page is public")
    assert response.status_code == 303
    decision = decisions_of(monitor, post_id)[-1]
    assert decision.action == "approve" and decision.override_reason == "the refunds page is public"


def test_reject_needs_a_reason_and_escalate_hands_over(client_for, monitor):
    anna = client_for("anna")
    rejected, escalated = monitor.seeded["praise"], monitor.seeded["legal"]
    assert form_post(anna, rejected, "reject", reason="  ").status_code == 409
    assert form_post(anna, rejected, "reject", reason="answered by phone").status_code == 303
    assert post_of(monitor, rejected).status == "rejected"
    assert decisions_of(monitor, rejected)[-1].reason == "answered by phone"
    assert form_post(anna, escalated, "escalate", to="legal", reason="").status_code == 303
    assert post_of(monitor, escalated).status == "escalated"
    # deciding a decided post is a clear conflict, not a crash
    response = form_post(anna, rejected, "reject", reason="again")
    assert response.status_code == 409 and "already rejected" in response.text


def test_unknown_post_is_a_404_page(client_for):
    anna = client_for("anna")
    assert anna.get("/queue?post=999999").status_code == 404
    token = csrf_of(anna.get("/dashboard").text)
    response = anna.post("/posts/999999/approve", data={"csrf_token": token, "text": "x"})
    assert response.status_code == 404 and "no post with id 999999" in response.text


def test_a_saved_reply_fills_the_editor_and_an_edited_approval_is_kept_for_learning(client_for, monitor):
    from models import DraftEdit
    from monitor import learning

    post_id = monitor.seeded["damaged"]
    with monitor.db.session() as session:
        learning.save_reply(session, "damaged-photo", "We're sorry! Please send us a photo in a private message.",
                            topic="parcel_damaged")
    anna = client_for("anna")
    page = anna.get(f"/queue?post={post_id}&saved=damaged-photo").text
    assert 'id="saved-reply"' in page and "Please send us a photo in a private message." in page
    assert form_post(anna, post_id, "approve", text="We're sorry! Please send us a photo in a private message.",
                     override_reason="test").status_code == 303
    with monitor.db.session() as session:
        edit = session.exec(select(DraftEdit).where(DraftEdit.post_id == post_id)).one()
    assert "Please send us a photo in a private message." in edit.added and edit.diff.startswith("--- draft")
