"""The team inbox in a real browser (Chromium via Playwright; see test_web_browser.py for how it
runs and when it skips): an agent proposes, an approver gets it at once, edits with the live
count and safety findings, approves, sends now and sees it on the fake platform; assignment,
notes, tags, search, bulk close, close without a reply, a post changed on the platform, and the
phone layout. Each screen is saved to tests/artifacts/team-*.png."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from connectors.base import CollectedItem
from models import AuditEvent, Source, as_utc
from monitor.store import store_items
from test_web_browser import ARTIFACTS, browser, live, open_post, person, screenshot  # noqa: F401 (fixtures)
from web_helpers import posted

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    screenshot(page, f"team-{name}.png")


def test_agent_proposes_approver_edits_with_live_checks_approves_and_sends_now(person, live):
    olek = person("olek")
    open_post(olek, live, "link")
    olek.fill("#reply-text", "Hello! The refund goes back to the card you paid with once the jacket is back with us.")
    olek.click("#propose-button")
    olek.wait_for_selector(".flash-ok")
    assert "waits under Proposals" in olek.inner_text(".flash-ok")
    post = live.post("link")
    assert post.proposed_by == "olek" and post.claimed_by is None      # the handoff: no lock left behind

    anna = person("anna")
    anna.click("#proposals-link")
    anna.wait_for_url("**proposals=1**")
    assert anna.inner_text("#proposals-count") == "1"
    ids = anna.eval_on_selector_all("#queue-items a[data-post]", "els => els.map(e => Number(e.dataset.post))")
    assert ids == [live.seeded["link"]]
    anna.click(f"#queue-items a[data-post='{live.seeded['link']}']")
    anna.wait_for_selector("#proposal-banner")
    assert "olek proposed the reply" in anna.inner_text("#proposal-banner")
    assert anna.locator("#lock-banner").count() == 0                 # the approver is not made to wait
    shot(anna, "1-proposal")

    # live count and findings while typing (the server's check, through the static script)
    anna.wait_for_selector("#char-count:has-text('/ 8000')")
    anna.click("#reply-text")
    anna.keyboard.press("End")
    anna.keyboard.type(" Details: https://evil.example/refund")
    anna.wait_for_selector("#live-findings .finding:has-text('evil.example')")
    anna.wait_for_selector("#override-box", state="visible")          # the reason field comes with the finding
    length = len(anna.input_value("#reply-text"))
    anna.wait_for_selector(f"#char-count:has-text('{length} / 8000')")
    shot(anna, "2-live-check")
    anna.screenshot(path=str(ARTIFACTS / "team-readme.png"))     # one screen of the loop, for the README
    for _ in range(len(" Details: https://evil.example/refund")):
        anna.keyboard.press("Backspace")
    anna.wait_for_selector("#live-findings .finding:has-text('evil.example')", state="detached")
    anna.wait_for_selector("#override-box", state="hidden")
    final = anna.input_value("#reply-text")
    anna.click("#approve-button")
    anna.wait_for_selector(".flash-ok")
    assert live.post("link").status == "approved" and live.post("link").proposed_by is None

    anna.goto(f"{live.url}/outbox")
    assert "(1)" in anna.inner_text("#send-now-button")
    shot(anna, "3-outbox-before-send")
    anna.click("#send-now-button")
    anna.wait_for_selector(".flash-ok:has-text('Posted 1 reply')")
    assert (live.fake.seeded["link"][1], final) in posted(live.fake)
    anna.goto(f"{live.url}/queue?status=posted&post={live.seeded['link']}")
    assert anna.inner_text("#outbox-state") == "sent"
    anna.click("#history summary")
    shot(anna, "4-posted")
    history = anna.inner_text("#history")
    assert "proposed a reply" in history and "approved the reply" in history and "decision." not in history
    assert anna.console_errors == [] and olek.console_errors == []


def test_assign_note_and_tag_then_find_by_tag(person, live):
    anna = person("anna")
    open_post(anna, live, "late")
    anna.select_option("#assign-to", "legal")
    anna.click("#assign-button")
    anna.wait_for_selector("#assigned-to:has-text('legal team')")
    anna.fill("#note-text", "Customer called the hotline; legal wants to see the carrier's report first.")
    anna.click("#note-button")
    anna.wait_for_selector("#notes li:has-text('carrier')")
    anna.fill("#tag-add", "shipping carrier")
    anna.click("#tag-button")
    anna.wait_for_selector("#post-tags:has-text('#shipping')")
    shot(anna, "5-assign-note-tags")
    with live.monitor.db.session() as session:
        note = session.exec(select(AuditEvent).where(AuditEvent.action == "post.note")).one()
    assert note.actor == "anna" and note.post_id == live.seeded["late"] and "carrier" in note.details["note"]
    assert live.post("late").assigned_to == "legal" and live.post("late").tags == " carrier shipping "
    assert not any("carrier" in text for _, text in posted(live.fake))   # a note is never posted
    anna.goto(f"{live.url}/queue?tag=shipping")
    ids = anna.eval_on_selector_all("#queue-items a[data-post]", "els => els.map(e => Number(e.dataset.post))")
    assert ids == [live.seeded["late"]]
    # to a colleague: it shows under olek's "Mine"
    open_post(anna, live, "late")
    anna.select_option("#assign-to", "olek")
    anna.click("#assign-button")
    anna.wait_for_selector("#assigned-to:has-text('olek')")
    olek = person("olek")
    olek.click("nav.views a:has-text('Mine')")
    olek.wait_for_url("**assigned=olek**")
    assert live.seeded["late"] in olek.eval_on_selector_all("#queue-items a[data-post]",
                                                           "els => els.map(e => Number(e.dataset.post))")


def test_search_text_and_author(person, live):
    anna = person("anna")
    anna.fill("#search-q", "pozew")
    anna.press("#search-q", "Enter")
    anna.wait_for_url("**q=pozew**")
    ids = anna.eval_on_selector_all("#queue-items a[data-post]", "els => els.map(e => Number(e.dataset.post))")
    assert ids == [live.seeded["legal"]]
    shot(anna, "6-search")
    anna.keyboard.press("/")
    anna.fill("#search-q", "kowalcz")                 # a prefix of the author's name
    anna.press("#search-q", "Enter")
    anna.wait_for_url("**q=kowalcz**")
    assert anna.eval_on_selector_all("#queue-items a[data-post]", "els => els.map(e => Number(e.dataset.post))") \
        == [live.seeded["legal"]]


def test_bulk_close_with_a_reason(person, live):
    anna = person("anna")
    anna.goto(f"{live.url}/queue?sort=age")
    for key in ("thanks_a", "thanks_b"):
        anna.check(f"input.bulk-pick[value='{live.seeded[key]}']")
    anna.select_option("#bulk-reason", "praise, no answer needed")
    shot(anna, "7-bulk-close")
    anna.click("#bulk-close-button")
    anna.wait_for_selector(".flash-ok:has-text('Closed 2 posts')")
    for key in ("thanks_a", "thanks_b"):
        assert live.post(key).status == "rejected"
        [decision] = live.decisions(key)
        assert decision.reason == "praise, no answer needed" and decision.actor == "anna"
    assert not posted(live.fake) or all(t not in ("Thank you, Jon!", "Thank you, Maria! Enjoy it.")
                                         for _, t in posted(live.fake))


def test_a_post_that_needs_no_reply_is_closed_without_an_empty_approve(person, live):
    anna = person("anna")
    open_post(anna, live, "spam")
    assert "No reply needed" in anna.inner_text("#detail h2")
    assert not anna.is_visible("#approve-button")          # no empty box with an Approve button
    shot(anna, "8-no-reply")
    anna.click("#close-no-reply-button")
    anna.wait_for_selector(".flash-ok:has-text('no reply needed')")
    assert live.post("spam").status == "rejected"
    assert live.decisions("spam")[0].action == "reject"


def test_an_escalated_post_changed_on_the_platform_is_flagged_and_redrafted(person, live):
    from monitor.decisions import Actor
    from models import Role
    live.monitor.escalate(live.seeded["changing"], Actor("anna", Role.approver), "customer_service", "refund")
    before = live.monitor.show(live.seeded["changing"]).draft
    post = live.post("changing")
    edited = "I got the refund, thank you! But the replacement kettle is broken too."   # now in English
    with live.monitor.db.session() as session:
        source = session.exec(select(Source)).first()
        store_items(session, "facebook", source.id, [CollectedItem(
            external_id=post.external_id, kind=post.kind, text=edited, created_at=as_utc(post.created_at),
            author_handle=post.author_handle, author_reach=post.author_reach, thread_id=post.thread_id,
            parent_id=post.parent_id, likes=post.likes, extra=dict(post.extra))], lambda item: item.created_at + timedelta(hours=1))
    live.monitor.process()
    after = live.monitor.show(live.seeded["changing"])
    assert after.post["status"] == "escalated" and after.post["changed_at"]
    assert after.draft["id"] != before["id"] and after.draft["language"] == "en"
    anna = person("anna")
    open_post(anna, live, "changing")
    assert "changed this post" in anna.inner_text("#changed-banner")
    assert anna.input_value("#reply-text") == after.draft["text"]
    shot(anna, "9-changed-post")


def test_translation_is_clearly_absent_when_not_configured(person, live):
    anna = person("anna")
    open_post(anna, live, "question")
    assert "Translation is not set up" in anna.inner_text("#translation-absent")


def test_phone_layout_one_screen_at_a_time(person, live):
    phone = person("bob", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{live.url}/queue")
    # the list alone first: several posts on one screen
    assert phone.is_visible("#queue-items") and not phone.is_visible("#detail")
    visible = phone.evaluate("""() => [...document.querySelectorAll('#queue-items .item')]
        .filter(e => e.getBoundingClientRect().top < window.innerHeight).length""")
    assert visible >= 3
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    shot(phone, "10-phone-list")
    phone.tap(f"#queue-items a[data-post='{live.seeded['formula']}']")
    phone.wait_for_selector("#back-to-list")
    assert not phone.is_visible("#queue-items")
    box = phone.locator("#approve-button").bounding_box()
    assert box and box["y"] + box["height"] <= 844          # the decision is within thumb reach
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    shot(phone, "11-phone-post")
    phone.goto(f"{live.url}/dashboard")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
    shot(phone, "12-phone-dashboard")
    assert phone.console_errors == []
