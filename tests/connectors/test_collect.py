"""Collecting through the real client libraries: everything across pages, nothing twice, the
bookmark moving only at the end of a complete run."""
from __future__ import annotations

import json

import pytest

from connectors.base import MalformedPayload
from tests.connectors.conftest import KIND, PLATFORMS, Collector, seed


@pytest.mark.parametrize("platform", PLATFORMS)
def test_collects_every_item_across_pages(fake, connect, platform):
    ids = seed(fake, platform, 7)
    collector = Collector(connect(platform))

    new = collector.run()

    assert sorted(i.external_id for i in new) == sorted(ids)
    assert all(i.kind == KIND[platform] for i in new)
    first = collector.items[ids[0]]
    assert first.text.startswith("@DemoShop post 0") and "where is my parcel" in first.text
    assert first.author_handle == "customer0"
    assert first.created_at.tzinfo is not None
    if KIND[platform] == "review":
        assert first.rating == 1 and collector.items[ids[4]].rating == 5
    # Seven items at two per page: the connector followed pagination, and only to the fake.
    reads = [r for r in fake.requests(platform) if r.method == "GET"]
    assert len(reads) >= 4
    assert collector.bookmark is not None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_second_collect_returns_only_what_is_new(fake, connect, platform):
    seed(fake, platform, 3)
    collector = Collector(connect(platform))
    assert len(collector.run()) == 3

    assert collector.run() == []

    later = seed(fake, platform, 3, start=5, tag="later")
    assert sorted(i.external_id for i in collector.run()) == sorted(later)
    assert collector.run() == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_new_connector_instance_continues_from_the_stored_bookmark(fake, connect, platform):
    seed(fake, platform, 4)
    first = Collector(connect(platform))
    first.run()
    later = seed(fake, platform, 2, start=5, tag="later")

    second = Collector(connect(platform))  # e.g. after a restart: only the bookmark survives
    second.bookmark = first.bookmark

    assert sorted(i.external_id for i in second.run()) == sorted(later)


# Requests that pass before the failure, so that at least one page is stored first.
FIRST_PAGE = {"x": 1, "facebook": 2, "instagram": 2, "reddit": 2, "google_reviews": 1, "allegro": 1, "vk": 2,
              "youtube": 1, "trustpilot": 1}


@pytest.mark.parametrize("failure", ["truncated", "server_error"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_break_off_half_way_keeps_the_bookmark_and_loses_nothing(fake, connect, platform, failure):
    seed(fake, platform, 2, start=120, tag="old")
    collector = Collector(connect(platform))
    collector.run()
    before = json.loads(collector.bookmark)
    fresh = seed(fake, platform, 7, start=30, tag="fresh")
    # Reddit's client retries a 5xx once by itself: fail twice so the break-off is real.
    fake.fail_next(platform, failure, times=2 if failure == "server_error" else 1, after=FIRST_PAGE[platform],
                   on="read")

    with pytest.raises(Exception) as raised:
        collector.run()
    fake.clear_failures()

    error = raised.value
    assert type(error).__module__ == "connectors.base", f"library exception leaked: {error!r}"
    if failure != "server_error":
        assert isinstance(error, MalformedPayload)
    stored_part = [i for i in fresh if i in collector.items]
    assert stored_part  # the first page was stored...
    after = json.loads(collector.bookmark)
    # ...but the broken stream's bookmark did not move past the rest (other streams may have finished)
    assert any(after.get(stream) == value for stream, value in before.items())

    collector.run()

    assert all(i in collector.items for i in fresh)
    assert json.loads(collector.bookmark) != before
    assert collector.run() == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_brand_replies_are_not_collected_as_posts(fake, connect, platform):
    from tests.connectors.conftest import target_of
    seed(fake, platform, 2)
    connector = connect(platform)
    collector = Collector(connector)
    items = collector.run()
    connector.reply(target_of(items[0]), "Thank you, we are checking your parcel now.")

    assert collector.run() == []
    assert not any("we are checking" in i.text for i in collector.items.values())


def test_an_unreadable_stored_bookmark_starts_again_without_error(fake, connect):
    ids = seed(fake, "reddit", 3)
    collector = Collector(connect("reddit"))
    collector.bookmark = "{not json"
    assert sorted(i.external_id for i in collector.run()) == sorted(ids)
    assert json.loads(collector.bookmark)


def test_x_search_query_finds_posts_that_do_not_mention_the_account(fake, connect):
    tweet = fake.add_post("x", "bought shoes at Demo Shop, very happy", author="happy", minutes_ago=3)
    collector = Collector(connect("x"))
    found = {i.external_id: i for i in collector.run()}
    assert tweet in found
    assert set(json.loads(collector.bookmark)) == {"mentions", "search"}


def test_facebook_collects_visitor_posts_comments_and_replies(fake, connect):
    comment = fake.add_post("facebook", "Where is my order?", kind="comment", author="anna", minutes_ago=10)
    reply = fake.add_post("facebook", "Same here!", kind="reply", parent=comment, author="bob", minutes_ago=8)
    post = fake.add_post("facebook", "Your shop lost my parcel", kind="mention", author="carl", minutes_ago=5)
    items = {i.external_id: i for i in Collector(connect("facebook")).run()}
    assert items[comment].kind == "comment" and items[comment].extra["reply_object"] == comment
    assert items[reply].kind == "reply" and items[reply].parent_id == comment
    assert items[reply].extra["reply_object"] == comment  # Facebook nests one level
    assert items[post].kind == "mention" and items[post].text == "Your shop lost my parcel"


def test_reddit_collects_subreddit_comments_naming_the_brand_and_inbox_mentions(fake, connect):
    named = fake.add_post("reddit", "DemoShop shipped fast", kind="comment", author="a", minutes_ago=9)
    other = fake.add_post("reddit", "unrelated chatter", kind="comment", author="b", minutes_ago=8)
    mention = fake.add_post("reddit", "u/DemoShop help please", kind="mention", author="c", minutes_ago=7)
    post = fake.add_post("reddit", "Is DemoShop legit?\nThinking of ordering", kind="post", author="d", minutes_ago=6)
    items = {i.external_id: i for i in Collector(connect("reddit")).run()}
    assert named in items and other not in items
    assert items[mention].kind == "mention"
    assert items[post].text.startswith("Is DemoShop legit?")
    assert items[named].url.startswith("https://www.reddit.com/r/zakupy/")
