"""Reconciliation takes only the reply an uncertain post made: the one that answers the exact
target with the approved text, from the brand, after the approval. Where the platform cannot
tell (Facebook, Instagram and YouTube put the answers to a comment and to its replies under the
same comment), the row waits for a person: a wrong "ours" leaves a customer unanswered, a wrong
"not there" posts twice.

Each test drives the application as an operator would (poll, approve, post) against the fake
platforms through the real connectors, and makes one post drop before it reaches the platform.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from connectors._reconcile import BrandReply, ReplyUnclear, our_reply
from connectors.base import PostRejected
from models import OutboxReply, Post
from monitor.decisions import Actor
from monitor.fakes.http import iso_z
from monitor.fakes.state import Item, utc
from tests.connectors.conftest import Collector, seed, target_of

ANNA = Actor("anna")
TO_BOB = "Bob, your parcel left our warehouse today."
TO_ANNA = "Anna, we are sorry: the refund is on its way."
SAME = "Thank you for writing, we are checking it now."


def collected(shop, platform: str) -> dict[str, int]:
    """Poll the platform; the stored posts' ids by their platform id."""
    shop.poll(next(s.name for s in shop.settings.sources if s.platform == platform), force=True)
    shop.process()
    with shop.db.session() as session:
        return {p.external_id: p.id for p in session.exec(select(Post).where(Post.platform == platform))}


def outbox_of(shop, post_id: int) -> OutboxReply:
    with shop.db.session() as session:
        return session.exec(select(OutboxReply).where(OutboxReply.post_id == post_id)).one()


def answer(shop, post_id: int, text: str) -> None:
    shop.approve(post_id, ANNA, text=text)
    report = shop.post_approved()
    assert outbox_of(shop, post_id).state == "sent", report


def approve_and_drop(shop, fake, platform: str, post_id: int, text: str) -> None:
    """Approve; the post drops before it reaches the platform: uncertain."""
    shop.approve(post_id, ANNA, text=text)
    fake.fail_next(platform, "disconnect", on="write")
    shop.post_approved()
    assert outbox_of(shop, post_id).state == "uncertain"


def replies_to(fake, platform: str, text: str) -> list[dict]:
    return [r for r in fake.replies(platform) if r["text"] == text]


def settled_honestly(shop, fake, platform: str, post_id: int, text: str) -> str:
    """After one more `post`: the row is sent with the platform's reply of exactly this text,
    or it waits for a person; never sent with another reply's id. Returns the state."""
    shop.post_approved()
    row = outbox_of(shop, post_id)
    assert row.state in ("sent", "needs_person"), row
    if row.state == "sent":
        assert row.external_reply_id in {r["id"] for r in replies_to(fake, platform, text)}
        with shop.db.session() as session:
            holders = session.exec(select(OutboxReply.id).where(
                OutboxReply.external_reply_id == row.external_reply_id)).all()
        assert holders == [row.id]                                    # no other row's reply taken
    return row.state


def nested_thread(fake, platform: str) -> tuple[str, str]:
    top = fake.add_post(platform, "Demo Shop, where is my refund?", kind="comment", author="anna", minutes_ago=10)
    nested = fake.add_post(platform, "And my parcel, Demo Shop?", kind="reply", parent=top, author="bob",
                           minutes_ago=5)
    return top, nested


# YouTube nests replies one level under the top comment, as Graph does, and names no other parent.
THREADED = ["facebook", "instagram", "youtube"]


@pytest.mark.parametrize("platform", THREADED)
def test_top_comment_is_not_reconciled_with_the_answer_to_its_nested_reply(fake, shop, platform):
    top, nested = nested_thread(fake, platform)
    ids = collected(shop, platform)
    answer(shop, ids[nested], TO_BOB)
    approve_and_drop(shop, fake, platform, ids[top], TO_ANNA)

    assert settled_honestly(shop, fake, platform, ids[top], TO_ANNA) == "sent"   # the platform can tell here
    assert len(replies_to(fake, platform, TO_ANNA)) == 1 and len(replies_to(fake, platform, TO_BOB)) == 1
    assert outbox_of(shop, ids[top]).external_reply_id != outbox_of(shop, ids[nested]).external_reply_id


@pytest.mark.parametrize("platform", THREADED)
def test_nested_reply_with_the_same_text_as_a_fresh_answer_in_the_thread_waits_for_a_person(fake, shop, platform):
    top, nested = nested_thread(fake, platform)
    ids = collected(shop, platform)
    answer(shop, ids[top], SAME)
    approve_and_drop(shop, fake, platform, ids[nested], SAME)

    assert settled_honestly(shop, fake, platform, ids[nested], SAME) == "needs_person"
    row = outbox_of(shop, ids[nested])
    assert "another" in row.last_error and "person" in row.last_error
    assert len(replies_to(fake, platform, SAME)) == 1                 # nothing guessed, nothing sent twice


@pytest.mark.parametrize("platform", THREADED)
def test_nested_reply_with_the_text_of_an_old_answer_in_the_thread_is_answered(fake, shop, platform):
    top, nested = nested_thread(fake, platform)
    ids = collected(shop, platform)
    answer(shop, ids[top], SAME)
    old = fake.state.items[replies_to(fake, platform, SAME)[0]["id"]]
    old.created -= timedelta(hours=2)                                 # answered long before the approval
    with shop.db.session() as session:                                # (and the top comment with it)
        session.get(Post, ids[top]).created_at -= timedelta(hours=2)
    approve_and_drop(shop, fake, platform, ids[nested], SAME)

    assert settled_honestly(shop, fake, platform, ids[nested], SAME) == "sent"
    assert len(replies_to(fake, platform, SAME)) == 2


@pytest.mark.parametrize("platform", THREADED)
def test_reply_posted_before_the_connection_dropped_is_found(fake, shop, platform):
    top = fake.add_post(platform, "Demo Shop, where is my refund?", kind="comment", author="anna", minutes_ago=10)
    ids = collected(shop, platform)
    shop.approve(ids[top], ANNA, text=TO_ANNA)
    fake.fail_next(platform, "lost_response", on="write")             # carried out, the answer lost
    shop.post_approved()
    assert outbox_of(shop, ids[top]).state == "uncertain"

    assert settled_honestly(shop, fake, platform, ids[top], TO_ANNA) == "sent"
    assert len(replies_to(fake, platform, TO_ANNA)) == 1              # found, not posted again


@pytest.mark.parametrize("platform", THREADED)
def test_lost_answer_to_a_comment_with_replies_under_it_waits_for_a_person(fake, shop, platform):
    """Under the comment, the answer may as well be meant for the reply Bob wrote before it."""
    top, nested = nested_thread(fake, platform)
    ids = collected(shop, platform)
    shop.approve(ids[top], ANNA, text=TO_ANNA)
    fake.fail_next(platform, "lost_response", on="write")
    shop.post_approved()

    assert settled_honestly(shop, fake, platform, ids[top], TO_ANNA) == "needs_person"
    assert len(replies_to(fake, platform, TO_ANNA)) == 1              # not posted again


def test_facebook_visitor_post_is_not_reconciled_with_an_answer_to_a_comment_under_it(fake, shop):
    post = fake.add_post("facebook", "Demo Shop, my order never came", kind="mention", author="ewa", minutes_ago=10)
    comment = fake.add_post("facebook", "Same here, Demo Shop", kind="comment", parent=post, author="jan",
                            minutes_ago=5)
    ids = collected(shop, "facebook")
    answer(shop, ids[comment], SAME)
    approve_and_drop(shop, fake, "facebook", ids[post], SAME)

    assert settled_honestly(shop, fake, "facebook", ids[post], SAME) == "sent"
    assert len(replies_to(fake, "facebook", SAME)) == 2


def test_another_brand_answer_to_the_same_comment_waits_for_a_person(fake, shop):
    """Someone answered on Facebook itself after the approval: not ours, and sending ours too
    would answer the customer twice."""
    top = fake.add_post("facebook", "Demo Shop, where is my refund?", kind="comment", author="anna", minutes_ago=10)
    ids = collected(shop, "facebook")
    approve_and_drop(shop, fake, "facebook", ids[top], TO_ANNA)
    graph_reply(fake, top, "Answered by hand in Facebook")

    assert settled_honestly(shop, fake, "facebook", ids[top], TO_ANNA) == "needs_person"
    assert "other text" in outbox_of(shop, ids[top]).last_error
    assert replies_to(fake, "facebook", TO_ANNA) == []


def graph_reply(fake, comment: str, text: str) -> None:
    """The page answers `comment` on Facebook itself (not through us)."""
    parent = fake.state.items[comment]
    brand = fake.brand
    fake.state.add(Item(id=f"{parent.root.rsplit('_', 1)[-1]}_{20000 + fake.state.next_number()}",
                        platform="facebook", kind="fb_comment", text=text, author=brand.facebook_page_name,
                        author_id=brand.facebook_page_id, created=utc(), parent=comment, root=parent.root,
                        by_brand=True))


# --- the same shape on the platforms that name a reply's parent -------------------------------

def conversation(fake, platform: str) -> tuple[str, str]:
    """A post naming the brand and a second customer's answer to it."""
    kind = {"x": None, "reddit": "comment", "vk": "comment"}[platform]
    first = fake.add_post(platform, "@DemoShop Demo Shop where is my refund?", kind=kind, author="anna",
                          minutes_ago=10)
    second = fake.add_post(platform, "@DemoShop Demo Shop and my parcel?", kind="reply" if kind else None,
                           parent=first, author="bob", minutes_ago=5)
    return first, second


@pytest.mark.parametrize("platform, text_of_second", [("x", TO_BOB), ("reddit", TO_BOB), ("reddit", TO_ANNA),
                                                      ("vk", TO_BOB), ("vk", TO_ANNA)])
def test_answer_to_another_item_in_the_conversation_is_never_taken(fake, shop, platform, text_of_second):
    """(X refuses a tweet whose text the brand already posted, so the same text is Reddit's and VK's
    case; VK names the comment a reply answers, `reply_to_comment`.)"""
    first, second = conversation(fake, platform)
    ids = collected(shop, platform)
    assert first in ids and second in ids
    answer(shop, ids[second], text_of_second)
    approve_and_drop(shop, fake, platform, ids[first], TO_ANNA)

    assert settled_honestly(shop, fake, platform, ids[first], TO_ANNA) == "sent"
    assert [r["in_reply_to"].split("_")[-1] for r in replies_to(fake, platform, TO_ANNA)
            if r["id"] == outbox_of(shop, ids[first]).external_reply_id] == [first.split("_")[-1]]


@pytest.mark.parametrize("platform", ["x", "reddit", "vk"])
def test_lost_answer_is_found_among_the_brands_replies(fake, shop, platform):
    first, second = conversation(fake, platform)
    ids = collected(shop, platform)
    answer(shop, ids[second], TO_BOB)
    shop.approve(ids[first], ANNA, text=TO_ANNA)
    fake.fail_next(platform, "lost_response", on="write")
    shop.post_approved()

    assert settled_honestly(shop, fake, platform, ids[first], TO_ANNA) == "sent"
    assert len(replies_to(fake, platform, TO_ANNA)) == 1


# Review platforms keep one answer per review (Google's replaces it, Allegro's is written once,
# Trustpilot's replaces it): the answer's fields as each fake stores it.
REVIEWS = ["google_reviews", "allegro", "trustpilot"]


def owner_reply(fake, platform: str, text: str) -> dict:
    now = iso_z(utc())
    return {"google_reviews": {"comment": text, "updateTime": now},
            "allegro": {"message": text, "createdAt": now},
            "trustpilot": {"text": text, "authorBusinessUserId": fake.brand.trustpilot_business_user_id,
                           "createdAt": now, "updatedAt": None}}[platform]


@pytest.mark.parametrize("platform", REVIEWS)
def test_owner_reply_written_elsewhere_after_the_approval_waits_for_a_person(fake, shop, platform):
    review = fake.add_post(platform, "Slow delivery", rating=2, author="ola", minutes_ago=10)
    ids = collected(shop, platform)
    approve_and_drop(shop, fake, platform, ids[review], TO_ANNA)
    fake.state.items[review].owner_reply = owner_reply(fake, platform, "Answered in the platform's own app")

    assert settled_honestly(shop, fake, platform, ids[review], TO_ANNA) == "needs_person"
    assert "other text" in outbox_of(shop, ids[review]).last_error
    assert "Answered in the platform's own app" in fake.state.items[review].owner_reply.values()  # not overwritten


@pytest.mark.parametrize("platform", REVIEWS)
def test_lost_answer_to_a_review_is_found_by_its_text(fake, shop, platform):
    review = fake.add_post(platform, "Slow delivery", rating=2, author="ola", minutes_ago=10)
    ids = collected(shop, platform)
    shop.approve(ids[review], ANNA, text=TO_ANNA)
    fake.fail_next(platform, "lost_response", on="write")
    shop.post_approved()

    assert settled_honestly(shop, fake, platform, ids[review], TO_ANNA) == "sent"
    assert len(fake.replies(platform)) == 1


def test_trustpilot_reply_by_another_business_user_is_never_replaced(fake, connect):
    """Trustpilot keeps one company reply and a new one replaces it: a colleague's stays."""
    connector = connect("trustpilot")
    [review] = seed(fake, "trustpilot", 1)
    item = {i.external_id: i for i in Collector(connector).run()}[review]
    colleague = {"text": "We are sorry, Anna from support here.", "authorBusinessUserId": "6a0000000000000000000fff"}
    fake.state.items[review].owner_reply = dict(colleague)

    with pytest.raises(PostRejected):
        connector.reply(target_of(item), TO_ANNA)
    with pytest.raises(ReplyUnclear, match="another business user"):
        connector.find_reply(target_of(item), TO_ANNA)
    assert fake.replies("trustpilot") == [] and fake.state.items[review].owner_reply == colleague


@pytest.mark.parametrize("platform", ["allegro", "vk", "youtube", "trustpilot"])
def test_a_brand_reply_with_other_text_after_the_approval_waits_for_a_person(fake, connect, platform):
    """A colleague answered on the platform itself, after the approval: not ours, and ours on top
    would answer the customer twice (or replace the colleague's)."""
    connector = connect(platform)
    [first] = seed(fake, platform, 1)
    item = {i.external_id: i for i in Collector(connector).run()}[first]
    target = replace(target_of(item), approved_at=utc(minutes_ago=1))
    connector.reply(target, "Answered by hand by a colleague.")

    with pytest.raises(ReplyUnclear, match="other text"):
        connector.find_reply(target, TO_ANNA)


@pytest.mark.parametrize("platform", ["vk", "youtube"])
def test_the_same_text_from_a_customer_is_not_the_brands_reply(fake, connect, platform):
    connector = connect(platform)
    [first] = seed(fake, platform, 1)
    item = {i.external_id: i for i in Collector(connector).run()}[first]
    fake.add_post(platform, TO_ANNA, kind="reply", parent=first, author="copycat", minutes_ago=0)

    assert connector.find_reply(target_of(item), TO_ANNA) is None


# --- the rule itself --------------------------------------------------------------------------

def test_a_listing_cut_short_is_never_read_as_nothing_posted():
    approved = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    other = BrandReply("r1", "Another answer", approved + timedelta(minutes=1), exact=False)
    assert our_reply([other], SAME, approved, complete=True, where="t") is None
    with pytest.raises(ReplyUnclear, match="past the pages read"):
        our_reply([other], SAME, approved, complete=False, where="t")
    escaped = BrandReply("r2", "Fish &amp; chips,  we  are on it", approved, exact=True)
    assert our_reply([escaped], "Fish & chips, we are on it", approved, complete=False, where="t") == "r2"
