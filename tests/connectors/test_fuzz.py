"""Property-based fuzzing of every connector's parser: pages built from the platforms' real
shapes, then mutated (fields missing, wrong types, huge strings, odd Unicode, truncated JSON,
random JSON). For every one: no crash (only a page-level MalformedPayload may leave a parser),
every item either read or handed over as unreadable, and what is read is storable: a page and its
quarantine go into the database in one transaction without an error, so nothing is stored half.

The suite runs a moderate number per platform; `MONITOR_FUZZ_EXAMPLES=10000` runs the full count:
    MONITOR_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/connectors/test_fuzz.py -q
"""
from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from connectors.base import CollectedItem, MalformedPayload, Unreadable
from models import Source
from monitor import quarantine
from monitor.fakes.state import Brand
from monitor.store import store_items
from tests.connectors.conftest import PLATFORMS

EXAMPLES = int(os.environ.get("MONITOR_FUZZ_EXAMPLES", "150"))
BRAND = Brand()
NOW = datetime.now(UTC).replace(microsecond=0)
ISO = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
ISO_Z = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
UNIX = (NOW - timedelta(minutes=5)).timestamp()

# --- real shapes (as the platforms document and send them) -----------------------------------

X_PAGE = {
    "data": [
        {"id": "1860000000000000003", "author_id": "42", "created_at": ISO_Z, "conversation_id": "1860000000000000001",
         "edit_history_tweet_ids": ["1860000000000000003"], "text": "RT @anna: @DemoShop lost &amp; gone\u2026",
         "referenced_tweets": [{"type": "retweeted", "id": "1860000000000000001"}],
         "public_metrics": {"retweet_count": 7, "reply_count": 0, "like_count": 0, "quote_count": 0}},
        {"id": "1860000000000000002", "author_id": "43", "created_at": ISO_Z, "conversation_id": "1860000000000000000",
         "edit_history_tweet_ids": ["1860000000000000002"], "text": "@DemoShop " + "a" * 260 + "\u2026",
         "note_tweet": {"text": "@DemoShop " + "a" * 400, "entities": {"mentions": []}},
         "referenced_tweets": [{"type": "replied_to", "id": "1860000000000000000"}],
         "public_metrics": {"retweet_count": 0, "reply_count": 1, "like_count": 2, "quote_count": 0}},
    ],
    "includes": {
        "users": [{"id": "42", "name": "Ola", "username": "ola", "public_metrics": {"followers_count": 10}},
                  {"id": "43", "name": "B", "username": "b"},
                  {"id": "41", "name": "Anna", "username": "anna", "public_metrics": {"followers_count": 900}}],
        "tweets": [{"id": "1860000000000000001", "author_id": "41", "created_at": ISO_Z,
                    "conversation_id": "1860000000000000001", "text": "@DemoShop lost &amp; gone &gt; 3 weeks",
                    "public_metrics": {"retweet_count": 7, "reply_count": 0, "like_count": 3, "quote_count": 1}}],
    },
    "meta": {"newest_id": "1860000000000000003", "oldest_id": "1860000000000000002", "result_count": 2,
             "next_token": "b26v89c19zqg8o3fo7"},
}
REDDIT_PAGE = {"kind": "Listing", "data": {"after": "t1_abd", "dist": 2, "modhash": "", "children": [
    {"kind": "t1", "data": {"id": "abc", "name": "t1_abc", "author": "user", "body": "DemoShop lost my parcel &amp;",
                            "created_utc": UNIX, "link_id": "t3_x1", "parent_id": "t3_x1", "subreddit": "zakupy",
                            "permalink": "/r/zakupy/comments/x1/_/abc/", "score": 3}},
    {"kind": "t3", "data": {"id": "x1", "name": "t3_x1", "author": "u2", "title": "Is DemoShop legit?",
                            "selftext": "Thinking of ordering", "created_utc": UNIX, "num_comments": 4,
                            "permalink": "/r/zakupy/comments/x1/is_demoshop_legit/", "subreddit": "zakupy",
                            "score": 10}},
]}}
PAGING = {"cursors": {"before": "QVFIUb", "after": "QVFIUm"},
          "next": "https://graph.facebook.com/v21.0/104/feed?limit=2&after=QVFIUm"}
FACEBOOK_FEED = {"data": [
    {"id": "104000000000001_1", "message": "Your shop lost my parcel", "created_time": ISO, "updated_time": ISO,
     "from": {"id": "55", "name": "Anna"}, "permalink_url": "https://www.facebook.com/104000000000001/posts/1"},
    {"id": "104000000000001_2", "message": "New arrivals!", "created_time": ISO, "updated_time": ISO,
     "from": {"id": BRAND.facebook_page_id, "name": "Demo Shop"}},
], "paging": PAGING}
FACEBOOK_COMMENTS = {"data": [
    {"id": "104000000000001_1_9", "message": "Same here", "created_time": ISO, "from": {"id": "56", "name": "Bob"},
     "parent": {"id": "104000000000001_1_8"}, "permalink_url": "https://www.facebook.com/1_9", "like_count": 2,
     "comment_count": 0},
    {"id": "104000000000001_1_8", "message": "Where is my order?", "created_time": ISO,
     "from": {"id": "57", "name": "Carl"}, "like_count": 0, "comment_count": 1},
], "paging": PAGING}
INSTAGRAM_MEDIA = {"data": [{"id": "17890000000000001", "caption": "New", "timestamp": ISO,
                             "permalink": "https://www.instagram.com/p/XYZ/", "comments_count": 3}], "paging": PAGING}
INSTAGRAM_COMMENTS = {"data": [
    {"id": "17900000000000001", "text": "Gdzie moja paczka?", "timestamp": ISO, "username": "ola",
     "from": {"id": "178", "username": "ola"}, "like_count": 1,
     "replies": {"data": [{"id": "17900000000000002", "text": "+1", "timestamp": ISO, "username": "b",
                           "from": {"id": "179", "username": "b"}, "like_count": 0},
                          {"id": "17900000000000003", "text": "Sprawdzamy!", "timestamp": ISO,
                           "username": BRAND.instagram_username,
                           "from": {"id": BRAND.instagram_user_id, "username": BRAND.instagram_username}}]}},
], "paging": PAGING}
GOOGLE_PAGE = {"reviews": [
    {"name": f"accounts/{BRAND.google_account_id}/locations/{BRAND.google_location_id}/reviews/AbFvOq1",
     "reviewId": "AbFvOq1", "reviewer": {"displayName": "Jan", "profilePhotoUrl": "https://lh3/x"},
     "starRating": "TWO", "comment": "Paczka uszkodzona", "createTime": ISO_Z, "updateTime": ISO_Z,
     "reviewReply": {"comment": "Przepraszamy", "updateTime": ISO_Z}},
    {"name": f"accounts/{BRAND.google_account_id}/locations/{BRAND.google_location_id}/reviews/AbFvOq2",
     "reviewer": {"isAnonymous": True}, "starRating": "FIVE", "createTime": ISO_Z, "updateTime": ISO_Z},
], "averageRating": 4.1, "totalReviewCount": 12, "nextPageToken": "next-page"}

ALLEGRO_PAGE = {"ratings": [
    {"id": "c2e5bd0f-3e5b-4b7b-9a3f-1c2d3e4f5a6b", "buyer": {"id": "45120000", "login": "kupujacy_1"},
     "comment": "Paczka dotarła szybko &amp; bezpiecznie", "createdAt": ISO_Z, "editedAt": None, "lastChangedAt": ISO_Z,
     "recommended": True, "rates": {"delivery": 5, "deliveryCost": 5, "description": 4, "service": 5},
     "answer": {"message": "Dziękujemy!", "createdAt": ISO_Z}, "excludedFromAverageRates": False,
     "order": {"offers": [{"id": "10000000001", "title": "Kubek"}]}},
    {"id": "a1b2c3d4-0000-4000-8000-000000000002", "buyer": {"id": "45120001", "login": "ewa_k"},
     "comment": None, "createdAt": ISO_Z, "editedAt": ISO_Z, "lastChangedAt": ISO_Z, "recommended": False,
     "rates": None, "answer": None, "order": {"offers": []}},
]}
VK_COMMENTS = {"count": 2, "current_level_count": 2, "can_post": True, "show_reply_button": True, "items": [
    {"id": 1001, "from_id": 5001, "post_id": 900, "owner_id": -int(BRAND.vk_group_id), "date": int(UNIX),
     "text": "Где мой заказ? &quot;", "likes": {"count": 1}, "parents_stack": [],
     "thread": {"count": 2, "can_post": True, "items": [
         {"id": 1003, "from_id": -int(BRAND.vk_group_id), "post_id": 900, "owner_id": -int(BRAND.vk_group_id),
          "date": int(UNIX), "text": "Проверяем!", "reply_to_comment": 1001, "reply_to_user": 5001,
          "parents_stack": [1001]},
         {"id": 1004, "from_id": 5002, "post_id": 900, "owner_id": -int(BRAND.vk_group_id), "date": int(UNIX),
          "text": "И мой тоже", "reply_to_comment": 1001, "reply_to_user": 5001, "parents_stack": [1001]}]}},
    {"id": 1002, "from_id": 5002, "post_id": 900, "owner_id": -int(BRAND.vk_group_id), "date": int(UNIX),
     "text": "Отличный магазин", "likes": {"count": 0}, "parents_stack": [], "thread": {"count": 0, "items": []}},
], "profiles": [{"id": 5001, "first_name": "Анна", "last_name": "Иванова", "screen_name": "anna"},
                {"id": 5002, "first_name": "Борис", "last_name": "", "screen_name": "boris"}],
    "groups": [{"id": int(BRAND.vk_group_id), "name": "Demo Shop", "screen_name": f"club{BRAND.vk_group_id}"}]}
YOUTUBE_THREADS = {"kind": "youtube#commentThreadListResponse", "etag": "e", "nextPageToken": "QURTSl9pMk",
                   "pageInfo": {"totalResults": 2, "resultsPerPage": 2}, "items": [
    {"kind": "youtube#commentThread", "etag": "t1", "id": "UgzTopComment0000000004AaABAg",
     "snippet": {"channelId": BRAND.youtube_channel_id, "videoId": "dQw4w9WgXcQ", "canReply": True,
                 "totalReplyCount": 2, "isPublic": True,
                 "topLevelComment": {"kind": "youtube#comment", "etag": "c1", "id": "UgzTopComment0000000004AaABAg",
                                     "snippet": {"channelId": BRAND.youtube_channel_id, "videoId": "dQw4w9WgXcQ",
                                                 "textDisplay": "Is it waterproof? &amp;", "textOriginal":
                                                 "Is it waterproof? &", "authorDisplayName": "@ola",
                                                 "authorChannelUrl": "http://www.youtube.com/@ola",
                                                 "authorChannelId": {"value": "UColaolaolaolaolaolaola1"},
                                                 "canRate": True, "viewerRating": "none", "likeCount": 2,
                                                 "publishedAt": ISO_Z, "updatedAt": ISO_Z}}},
     "replies": {"comments": [
         {"kind": "youtube#comment", "etag": "c2", "id": "UgzTopComment0000000004AaABAg.9xYz0000001",
          "snippet": {"channelId": BRAND.youtube_channel_id, "videoId": "dQw4w9WgXcQ", "textDisplay": "Yes!",
                      "textOriginal": "Yes!", "parentId": "UgzTopComment0000000004AaABAg",
                      "authorDisplayName": "@DemoShop", "authorChannelId": {"value": BRAND.youtube_channel_id},
                      "likeCount": 0, "publishedAt": ISO_Z, "updatedAt": ISO_Z}},
         {"kind": "youtube#comment", "etag": "c3", "id": "UgzTopComment0000000004AaABAg.9xYz0000002",
          "snippet": {"channelId": BRAND.youtube_channel_id, "videoId": "dQw4w9WgXcQ", "textDisplay": "Thanks",
                      "textOriginal": "Thanks", "parentId": "UgzTopComment0000000004AaABAg",
                      "authorDisplayName": "@ola", "authorChannelId": {"value": "UColaolaolaolaolaolaola1"},
                      "likeCount": 0, "publishedAt": ISO_Z, "updatedAt": ISO_Z}}]}},
    {"kind": "youtube#commentThread", "etag": "t2", "id": "UgwSecond00000000000004AaABAg",
     "snippet": {"channelId": BRAND.youtube_channel_id, "videoId": "dQw4w9WgXcQ", "totalReplyCount": 0,
                 "topLevelComment": {"kind": "youtube#comment", "id": "UgwSecond00000000000004AaABAg",
                                     "snippet": {"textDisplay": "Great", "textOriginal": "Great",
                                                 "authorDisplayName": "@jan", "publishedAt": ISO_Z,
                                                 "authorChannelId": {"value": "UCjanjanjanjanjanjanjan1"}}}}},
]}
TRUSTPILOT_PAGE = {"reviews": [
    {"id": "65000000000000000000001a", "stars": 2, "title": "Slow delivery", "text": "Took three weeks &amp; more",
     "language": "en", "createdAt": ISO_Z, "updatedAt": None, "isVerified": True,
     "consumer": {"id": "5c000000000000000000001a", "displayName": "Jan K.", "numberOfReviews": 3},
     "businessUnit": {"id": BRAND.trustpilot_business_unit_id}, "referenceId": "order-1001",
     "referralEmail": "jan@example.com",
     "companyReply": {"text": "Sorry!", "authorBusinessUserId": BRAND.trustpilot_business_user_id,
                      "createdAt": ISO_Z, "updatedAt": None},
     "links": [{"href": "https://api.trustpilot.com/v1/reviews/65000000000000000000001a", "method": "GET",
                "rel": "reviews"}]},
    {"id": "65000000000000000000001b", "stars": 5, "title": "", "text": "Great", "language": "pl",
     "createdAt": ISO_Z, "consumer": {"displayName": "Ola"}, "companyReply": None},
], "links": [{"href": "https://api.trustpilot.com/v1/private/business-units/x/reviews?page=2", "method": "GET",
              "rel": "next-page"}]}

BASES = {"x": [X_PAGE], "reddit": [REDDIT_PAGE], "facebook": [FACEBOOK_FEED, FACEBOOK_COMMENTS],
         "instagram": [INSTAGRAM_MEDIA, INSTAGRAM_COMMENTS], "google_reviews": [GOOGLE_PAGE],
         "allegro": [ALLEGRO_PAGE], "vk": [VK_COMMENTS], "youtube": [YOUTUBE_THREADS], "trustpilot": [TRUSTPILOT_PAGE]}

# --- mutations -------------------------------------------------------------------------------

ODD_TEXT = ["", " ", "\x00", "\ud800", "\udfff tail", "\u202egnirts", "\u200d\u200d", "👨‍👩‍👧" * 50, "ﷺ",
            "&amp;lt;", "\r\n\t", "null", "1e309", "9" * 400, "𝕏" * 1000, "x" * 120_000, "2026-02-30T25:61:00Z",
            "0000-00-00T00:00:00Z", "-1", "t1_", "https://x.com/%zz", "http://[::1", "accounts/../../x"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 80), max_value=2 ** 80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), st.sampled_from(ODD_TEXT))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def _containers(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path] if isinstance(value, (dict, list)) else []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found += _containers(child, path + (key,))
    return found


def _at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def payloads(draw, platform: str) -> Any:
    base = copy.deepcopy(draw(st.sampled_from(BASES[platform])))
    if draw(st.integers(0, 19)) == 0:
        return draw(json_values)                                  # anything at all
    for _ in range(draw(st.integers(0, 6))):
        paths = _containers(base)
        if not paths:
            break
        target = _at(base, draw(st.sampled_from(paths)))
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        operation = draw(st.sampled_from(["delete", "replace", "odd", "duplicate", "wrap"]))
        if operation == "delete":
            del target[key]
        elif operation == "replace":
            target[key] = draw(json_values)
        elif operation == "odd":
            target[key] = draw(st.sampled_from(ODD_TEXT))
        elif operation == "duplicate" and isinstance(target, list):
            target.append(copy.deepcopy(target[key]))
        elif operation == "wrap":
            target[key] = [target[key]]
    if draw(st.integers(0, 9)) == 0:                              # truncated JSON, as a cut-off answer
        text = json.dumps(base, ensure_ascii=False)
        cut = text[: draw(st.integers(0, len(text)))]
        try:
            return json.loads(cut)                                 # a cut that still parses (e.g. a number)
        except ValueError:
            return _TRUNCATED
    return base


_TRUNCATED = object()  # the client library cannot decode it: a page-level MalformedPayload (tested on the fake)

# --- the parsers, offline --------------------------------------------------------------------


def _connectors() -> dict[str, Any]:
    from connectors.facebook import FacebookConnector
    from connectors.google_reviews import GoogleReviewsConnector
    from connectors.instagram import InstagramConnector
    from connectors.reddit import RedditConnector
    from connectors.allegro import AllegroConnector
    from connectors.trustpilot import TrustpilotConnector
    from connectors.vk import VKConnector
    from connectors.x import XConnector
    from connectors.youtube import YouTubeConnector
    base = "http://127.0.0.1:9"
    graph = dict(access_token="fuzz-token-0000", base_url=base, version="v21.0", page_size=50, max_pages=5,
                 lookback_days=14, backfill_days=7, timeout=1)
    made = {
        "x": XConnector("fuzz-x", account_id=BRAND.x_user_id, query=None, base_url=base, page_size=100, max_pages=1,
                        backfill_days=7, timeout=1, consumer_key="ck-fuzz00", consumer_secret="cs-fuzz00",
                        access_token="at-fuzz00", access_token_secret="as-fuzz00"),
        "reddit": RedditConnector("fuzz-reddit", username=BRAND.reddit_username, subreddits=["zakupy"],
                                  terms=["DemoShop"], query=None, mentions=True, oauth_url=base, reddit_url=base,
                                  user_agent="fuzz", page_size=100, max_pages=1, backfill_days=7, timeout=1,
                                  client_id="ci-fuzz00", client_secret="cs-fuzz00", refresh_token="rt-fuzz00"),
        "facebook": FacebookConnector("fuzz-facebook", page_id=BRAND.facebook_page_id, **graph),
        "instagram": InstagramConnector("fuzz-instagram", account_id=BRAND.instagram_user_id, **graph),
        "google_reviews": GoogleReviewsConnector(
            "fuzz-google", account_id=BRAND.google_account_id, location_id=BRAND.google_location_id, base_url=base,
            token_uri=f"{base}/token", page_size=50, max_pages=1, backfill_days=30, timeout=1,
            client_id="ci-fuzz00", client_secret="cs-fuzz00", refresh_token="rt-fuzz00"),
    }
    oauth = dict(base_url=base, token_uri=f"{base}/token", page_size=100, max_pages=1, backfill_days=30, timeout=1,
                 refresh_token="rt-fuzz00")
    made["allegro"] = AllegroConnector("fuzz-allegro", redirect_uri=None, client_id="ci-fuzz00",
                                       client_secret="cs-fuzz00", **oauth)
    made["trustpilot"] = TrustpilotConnector(
        "fuzz-trustpilot", business_unit_id=BRAND.trustpilot_business_unit_id,
        business_user_id=BRAND.trustpilot_business_user_id, api_key="ak-fuzz00", api_secret="as-fuzz00", **oauth)
    made["youtube"] = YouTubeConnector("fuzz-youtube", channel_id=BRAND.youtube_channel_id, client_id="ci-fuzz00",
                                       client_secret="cs-fuzz00", **oauth)
    made["vk"] = VKConnector("fuzz-vk", group_id=BRAND.vk_group_id, access_token="vk-fuzz00", base_url=base,
                             api_version="5.199", page_size=100, max_pages=1, lookback_days=14, backfill_days=7,
                             timeout=1, requests_per_second=20)
    made["instagram"]._username = BRAND.instagram_username  # known: no lookup on the network
    # Threads longer than what comes inline are listed with one more request: none offline.
    made["vk"]._thread = lambda *args, **kwargs: iter(())
    made["youtube"]._replies = lambda *args, **kwargs: iter(())
    return made


def parse(connector: Any, platform: str, payload: Any, variant: int) -> tuple[list[CollectedItem], list[Unreadable], int]:
    """The page's items and unreadable items, and how many raw items it listed (page-level
    problems raise MalformedPayload, as the connector's walk would)."""
    if platform == "x":
        items, unreadable, _, _ = connector._parse_page(payload, "mentions")
        listed = len(payload["data"]) if isinstance(payload.get("data"), list) else 0
        return items, unreadable, listed
    if platform == "reddit":
        entries, _ = connector._read_listing(payload, "mentions" if variant else "comments")
        listed = len(payload["data"]["children"])
    elif platform == "google_reviews":
        entries, _ = connector._read_reviews(payload)
        listed = len(payload.get("reviews") or [])
    elif platform == "allegro":
        entries, _ = connector._read_ratings(payload, 0)
        listed = len(payload["ratings"])
    elif platform == "trustpilot":
        entries, _ = connector._read_reviews(payload, 1)
        listed = len(payload["reviews"])
    elif platform == "vk":
        entries, _ = connector._read_comments(payload, "900", 0, lambda _: False)
        listed = len(payload["items"])
    elif platform == "youtube":
        entries, _ = connector._read_threads(payload, {}, {})
        listed = len(payload["items"])
    else:
        data, _ = connector.graph.read_page(payload, "fuzzing")
        listed = len(data)
        if platform == "facebook":
            entries = connector._feed_entries(data)[0] if variant == 0 else connector._comment_entries(data, "1_1")
        elif variant == 0:
            entries, _ = connector._media_entries(data)
        else:
            entries = connector._comment_entries(data, "17890000000000001", "https://www.instagram.com/p/XYZ/")
    return [e.item for e in entries if e.item], [e.unreadable for e in entries if e.unreadable], listed


@pytest.fixture(scope="module")
def world():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        sources = {p: Source(name=f"fuzz-{p}", platform=p) for p in PLATFORMS}
        session.add_all(sources.values())
        session.commit()
        ids = {p: s.id for p, s in sources.items()}
    connectors = _connectors()
    yield engine, ids, connectors
    for connector in connectors.values():
        connector.close()
    engine.dispose()


def _check_item(item: CollectedItem) -> None:
    assert isinstance(item.external_id, str) and item.external_id
    assert isinstance(item.text, str) and isinstance(item.author_handle, str)
    assert isinstance(item.created_at, datetime) and item.created_at.tzinfo is not None
    assert item.url is None or isinstance(item.url, str)
    assert all(v is None or isinstance(v, str) for v in (item.thread_id, item.parent_id))
    assert all(isinstance(v, int) and v >= 0 for v in (item.likes, item.shares, item.replies, item.author_reach))
    json.dumps(dict(item.extra))


def _due(item: CollectedItem) -> datetime:
    return item.created_at + timedelta(hours=1)


def fuzz(platform: str, world, payload: Any, variant: int) -> None:
    engine, source_ids, connectors = world
    if payload is _TRUNCATED:
        return
    try:
        items, unreadable, listed = parse(connectors[platform], platform, payload, variant)
    except MalformedPayload:
        return  # the whole page is unreadable: the stream stops with this error, nothing is stored
    for item in items:
        _check_item(item)
    for held in unreadable:
        assert isinstance(held, Unreadable) and held.error
    # Every listed item is read, handed over as unreadable, or skipped on purpose (never more).
    assert len(unreadable) <= max(listed, 1) * 4
    # What was read is storable, with its quarantine, in one transaction (SQLite here; the same
    # values are what PostgreSQL gets).
    with Session(engine) as session:
        source = session.get(Source, source_ids[platform])
        store_items(session, platform, source.id, items, _due)
        quarantine.hold(session, source, "fuzz", unreadable)
        session.flush()
        session.rollback()


PROFILE = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 150,
                   suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fuzzed_pages_never_crash_and_what_is_read_is_storable(platform, world):
    @PROFILE
    @given(payload=payloads(platform), variant=st.integers(0, 1))
    def run(payload: Any, variant: int) -> None:
        fuzz(platform, world, payload, variant)
    run()


def test_the_real_shapes_parse_whole(world):
    """The unmutated pages: everything read, nothing unreadable (the mutations start from here)."""
    _, _, connectors = world
    expected = {"x": 2, "reddit": 2, "google_reviews": 2, "allegro": 2, "trustpilot": 2,
                "vk": 3, "youtube": 3}  # (the brand's own VK and YouTube replies are not collected)
    for platform, count in expected.items():
        items, unreadable, _ = parse(connectors[platform], platform, copy.deepcopy(BASES[platform][0]), 0)
        assert len(items) == count and not unreadable, platform
    items, unreadable, _ = parse(connectors["instagram"], "instagram", copy.deepcopy(INSTAGRAM_COMMENTS), 1)
    assert [i.external_id for i in items] == ["17900000000000001", "17900000000000002"] and not unreadable
    items, unreadable, _ = parse(connectors["facebook"], "facebook", copy.deepcopy(FACEBOOK_COMMENTS), 1)
    assert len(items) == 2 and not unreadable
