"""Replying through the real client libraries: in the right thread, exactly once, and every
failure either surely-not-posted (RateLimited/AuthExpired/PostRejected) or uncertain (plain
ConnectorError) with `find_reply` able to settle it."""
from __future__ import annotations

import pytest

from connectors._reconcile import ReplyUnclear
from connectors.base import AuthExpired, ConnectorError, PostRejected, RateLimited, ReplyTarget
from monitor.fakes.server import TOKEN_PATHS
from tests.connectors.conftest import PLATFORMS, Collector, seed, target_of

TEXT = "Przepraszamy za kłopot 🙏 Sprawdzamy Pani paczkę i odezwiemy się dziś."
SURELY_NOT_POSTED = (RateLimited, AuthExpired, PostRejected)


def collected(fake, connect, platform, count=2):
    connector = connect(platform)
    ids = seed(fake, platform, count)
    items = {i.external_id: i for i in Collector(connector).run()}
    return connector, [items[i] for i in ids]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_reply_posts_once_in_the_thread_and_find_reply_sees_it(fake, connect, platform):
    connector, (first, second) = collected(fake, connect, platform)
    assert connector.find_reply(target_of(first), TEXT) is None

    reply_id = connector.reply(target_of(first), TEXT)

    posted = fake.replies(platform)
    assert len(posted) == 1
    assert posted[0]["text"] == TEXT and posted[0]["id"] == reply_id
    assert posted[0]["in_reply_to"] in (first.external_id, first.extra.get("reply_object"),
                                        first.extra.get("fullname"))
    assert connector.find_reply(target_of(first), TEXT) == reply_id
    assert connector.find_reply(target_of(second), TEXT) is None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_lost_answer_is_uncertain_and_find_reply_reconciles_it(fake, connect, platform):
    connector, (first, _) = collected(fake, connect, platform)
    fake.fail_next(platform, "lost_response", on="write")  # posted, then the connection dropped

    with pytest.raises(ConnectorError) as raised:
        connector.reply(target_of(first), TEXT)

    assert not isinstance(raised.value, SURELY_NOT_POSTED)
    assert len(fake.replies(platform)) == 1           # no library retried the post behind our back
    assert connector.find_reply(target_of(first), TEXT) == fake.replies(platform)[0]["id"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_answer_without_an_id_is_uncertain_not_a_crash(fake, connect, platform):
    connector, (first, _) = collected(fake, connect, platform)
    fake.fail_next(platform, "malformed", on="write")  # carried out, the answer is unreadable

    try:
        reply_id = connector.reply(target_of(first), TEXT)
    except ConnectorError as error:
        assert not isinstance(error, SURELY_NOT_POSTED)
        reply_id = connector.find_reply(target_of(first), TEXT)
    assert reply_id == fake.replies(platform)[0]["id"]
    assert len(fake.replies(platform)) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_error_on_reply_is_never_retried_by_the_library(fake, connect, platform):
    connector, (first, _) = collected(fake, connect, platform)
    fake.fail_next(platform, "server_error", times=2, on="write")

    with pytest.raises(ConnectorError) as raised:
        connector.reply(target_of(first), TEXT)

    assert not isinstance(raised.value, SURELY_NOT_POSTED)
    writes = [r for r in fake.requests(platform) if r.method in ("POST", "PUT") and r.path not in TOKEN_PATHS]
    assert len(writes) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limit_and_expired_token_on_reply_post_nothing(fake, connect, platform):
    connector, (first, _) = collected(fake, connect, platform)
    kind = "api_ratelimit" if platform == "reddit" else "rate_limit"
    fake.fail_next(platform, kind, on="write")
    with pytest.raises(RateLimited):
        connector.reply(target_of(first), TEXT)
    fake.fail_next(platform, "auth_expired", times=3, on="write")
    with pytest.raises(AuthExpired):
        connect(platform).reply(target_of(first), TEXT)
    assert fake.replies(platform) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_reply_to_a_deleted_item_is_rejected(fake, connect, platform):
    connector, (first, _) = collected(fake, connect, platform)
    gone = {"x": "1999999999999999999", "facebook": "1_2", "instagram": "17999999999999999",
            "reddit": "t1_zzzzzzz", "google_reviews": "AbFvOqGone", "allegro": "00000000-0000-0000-0000-00000000dead",
            "vk": "99999999", "youtube": "UgzGone00000000000004AaABAg", "trustpilot": "650000000000000000000bad"}[platform]
    extra = {k: v for k, v in first.extra.items()}
    extra.update({"reply_object": gone, "fullname": gone})
    if platform == "google_reviews":
        extra["review_name"] = first.extra["review_name"].rsplit("/", 1)[0] + "/" + gone
    with pytest.raises(PostRejected):
        connector.reply(ReplyTarget(gone, first.kind, extra=extra), TEXT)
    assert fake.replies(platform) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_too_long_reply_is_rejected_before_anything_is_sent(fake, connect, platform):
    connector, (first, _) = collected(fake, connect, platform)
    sent_before = len(fake.requests(platform))
    with pytest.raises(PostRejected):
        connector.reply(target_of(first), "a" * (connector.max_reply_length + 1))
    assert len(fake.requests(platform)) == sent_before


def test_x_reply_goes_into_the_conversation(fake, connect):
    connector, (first, _) = collected(fake, connect, "x")
    reply_id = connector.reply(target_of(first), TEXT)
    tweet = fake.state.items[reply_id]
    assert tweet.parent == first.external_id and tweet.root == first.thread_id


def test_facebook_reply_to_a_reply_goes_under_the_top_comment(fake, connect):
    connector = connect("facebook")
    top = fake.add_post("facebook", "Where is my order?", kind="comment", author="anna", minutes_ago=10)
    nested = fake.add_post("facebook", "Mine too!", kind="reply", parent=top, author="bob", minutes_ago=5)
    items = {i.external_id: i for i in Collector(connector).run()}
    reply_id = connector.reply(target_of(items[nested]), TEXT)
    assert fake.state.items[reply_id].parent == top
    with pytest.raises(ReplyUnclear, match="may answer another comment"):   # or the top comment's answer?
        connector.find_reply(target_of(items[nested]), TEXT)


def test_instagram_reply_to_a_reply_goes_under_the_top_comment(fake, connect):
    connector = connect("instagram")
    top = fake.add_post("instagram", "Is it in stock?", kind="comment", author="ola", minutes_ago=10)
    nested = fake.add_post("instagram", "I want to know too", kind="reply", parent=top, author="ewa", minutes_ago=5)
    items = {i.external_id: i for i in Collector(connector).run()}
    assert items[nested].kind == "reply" and items[nested].parent_id == top
    reply_id = connector.reply(target_of(items[nested]), TEXT)
    assert fake.state.items[reply_id].parent == top


def test_google_find_reply_sees_an_owner_reply_written_elsewhere(fake, connect):
    """Not ours (other text), and sending ours would replace it: a person decides."""
    connector, (first, _) = collected(fake, connect, "google_reviews")
    fake.state.items[first.external_id].owner_reply = {"comment": "Answered in the Google app", "updateTime": "x"}
    with pytest.raises(ReplyUnclear, match="other text"):
        connector.find_reply(target_of(first), TEXT)
