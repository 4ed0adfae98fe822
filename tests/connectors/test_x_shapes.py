"""X as X sends it (API v2 shapes): retweets are not posts of their own, long posts arrive whole,
text is unescaped once, and replies are measured by X's weighted length."""
from __future__ import annotations

import pytest

from connectors._x_text import unescape, weighted_length
from connectors.base import PostRejected
from tests.connectors.conftest import Collector, target_of


def test_retweets_count_for_the_original_and_are_not_posts(fake, connect):
    original = fake.add_post("x", "@DemoShop my parcel has been lost for two weeks, nobody answers", author="anna",
                             minutes_ago=30)
    retweets = [fake.add_retweet(original, author=f"friend{n}", minutes_ago=20 - n) for n in range(3)]

    items = {i.external_id: i for i in Collector(connect("x")).run()}

    assert set(items) == {original}
    assert not set(retweets) & set(items)
    assert items[original].text == "@DemoShop my parcel has been lost for two weeks, nobody answers"
    assert items[original].author_handle == "anna" and items[original].shares == 3


def test_an_original_not_yet_stored_comes_from_includes_whole(fake, connect):
    long_ago = fake.add_post("x", "@DemoShop " + "the courier left my order in the rain and it was ruined. " * 3,
                             author="olga", minutes_ago=60 * 24 * 20)  # outside the back-fill window
    fake.add_retweet(long_ago, author="someone", minutes_ago=5)

    items = {i.external_id: i for i in Collector(connect("x")).run()}

    assert list(items) == [long_ago]
    assert items[long_ago].text.startswith("@DemoShop the courier") and "RT @" not in items[long_ago].text
    assert items[long_ago].text.count("ruined") == 3 and items[long_ago].author_handle == "olga"


def test_long_posts_arrive_whole_from_note_tweet(fake, connect):
    text = "@DemoShop " + "Zamówienie 4471 nie dotarło, a infolinia nie odbiera. " * 8
    assert len(text) > 280
    tweet = fake.add_post("x", text, author="marek", minutes_ago=3)
    items = {i.external_id: i for i in Collector(connect("x")).run()}
    assert items[tweet].text == text


def test_escaped_text_is_unescaped_exactly_once(fake, connect):
    written = "@DemoShop Tom & Jerry <3 -> 5 > 4, and I typed &lt; myself"
    tweet = fake.add_post("x", written, author="kid", minutes_ago=2)
    items = {i.external_id: i for i in Collector(connect("x")).run()}
    assert items[tweet].text == written
    assert unescape("&amp;amp; &amp;lt; &lt;&gt;") == "&amp; &lt; <>"


def test_a_real_mentions_page_with_a_retweet_a_long_post_and_escapes():
    """The shape of a real X API v2 answer (fields and expansions as the connector asks)."""
    from connectors.x import XConnector
    connector = XConnector("x", account_id="1500000000000000001", query=None, base_url="http://127.0.0.1:9",
                           page_size=100, max_pages=1, backfill_days=7, timeout=5, consumer_key="k" * 8,
                           consumer_secret="s" * 8, access_token="t" * 8, access_token_secret="a" * 8)
    payload = {
        "data": [
            {"id": "1860000000000000003", "author_id": "42", "created_at": "2026-11-29T10:00:00.000Z",
             "conversation_id": "1860000000000000003", "edit_history_tweet_ids": ["1860000000000000003"],
             "text": "RT @anna: @DemoShop my order &amp; my refund are both gone, 3 weeks &gt; your promised 5 da\u2026",
             "referenced_tweets": [{"type": "retweeted", "id": "1860000000000000001"}],
             "public_metrics": {"retweet_count": 7, "reply_count": 0, "like_count": 0, "quote_count": 0}},
            {"id": "1860000000000000002", "author_id": "43", "created_at": "2026-11-29T09:00:00.000Z",
             "conversation_id": "1860000000000000002", "edit_history_tweet_ids": ["1860000000000000002"],
             "text": "@DemoShop " + "a" * 260 + "\u2026 https://t.co/abc",
             "note_tweet": {"text": "@DemoShop " + "a" * 400, "entities": {"mentions": []}},
             "public_metrics": {"retweet_count": 0, "reply_count": 1, "like_count": 2, "quote_count": 0}},
        ],
        "includes": {
            "users": [{"id": "42", "name": "Ola", "username": "ola"}, {"id": "43", "name": "B", "username": "b"},
                      {"id": "41", "name": "Anna", "username": "anna", "public_metrics": {"followers_count": 900}}],
            "tweets": [{"id": "1860000000000000001", "author_id": "41", "created_at": "2026-11-28T10:00:00.000Z",
                        "conversation_id": "1860000000000000001", "edit_history_tweet_ids": ["1860000000000000001"],
                        "text": "@DemoShop my order &amp; my refund are both gone, 3 weeks &gt; your promised 5 days",
                        "public_metrics": {"retweet_count": 7, "reply_count": 0, "like_count": 3, "quote_count": 1}}],
        },
        "meta": {"newest_id": "1860000000000000003", "oldest_id": "1860000000000000001", "result_count": 2},
    }
    items, unreadable, ids, _ = connector._parse_page(payload, "mentions")
    connector.close()
    by_id = {i.external_id: i for i in items}
    assert not unreadable and ids == ["1860000000000000003", "1860000000000000002"]
    assert set(by_id) == {"1860000000000000001", "1860000000000000002"}
    original = by_id["1860000000000000001"]
    assert original.text == "@DemoShop my order & my refund are both gone, 3 weeks > your promised 5 days"
    assert original.author_handle == "anna" and original.author_reach == 900 and original.shares == 8
    assert by_id["1860000000000000002"].text == "@DemoShop " + "a" * 400


def test_x_weighted_length_decides_what_may_be_posted(fake, connect):
    items = Collector(connect("x")).run() if fake.add_post("x", "@DemoShop hi", minutes_ago=1) else []
    connector = connect("x")
    with pytest.raises(PostRejected) as refused:
        connector.reply(target_of(items[0]), "中" * 141)          # 141 characters, X counts 282
    assert "282" in str(refused.value) and not fake.replies("x")
    assert weighted_length("я" * 280) == 280 and weighted_length("see https://demo-shop.example/" + "x" * 300) == 4 + 23
    assert connector.reply(target_of(items[0]), "Dziękujemy! " + "я" * 260)   # 272 characters, weight 272
    assert len(fake.replies("x")) == 1
