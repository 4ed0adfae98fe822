"""Streams and quarantine through the real collector and database: an unreadable item in the
first stream of a source no longer stops anything; it waits in quarantine with its error, and a
retry after the parser is fixed stores it. A stream that fails outright leaves the others going."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import connectors._paging
from models import Post, QuarantinedItem, Source, SourceStream
from monitor import quarantine
from monitor.collect import poll_source
from monitor.db import Database
from tests.connectors.conftest import FIRST_STREAM, PLATFORMS, seed

# Reads let through before the damaged page: Instagram lists media first, then their comments; VK
# reads the wall, then the comments.
FIRST_ITEMS_READ = {"x": 0, "facebook": 0, "instagram": 1, "reddit": 0, "google_reviews": 0, "allegro": 0,
                    "vk": 1, "youtube": 0, "trustpilot": 0}
# Seeded items that arrive through the first stream.
KIND = {"x": "mention", "facebook": "mention", "instagram": "comment", "reddit": "mention",
        "google_reviews": "review", "allegro": "review", "vk": "comment", "youtube": "comment",
        "trustpilot": "review"}
# What the fake leaves out of the damaged item (see monitor/fakes/server.py `_damaged`).
MISSING = {"x": "author_id", "facebook": "created_time", "instagram": "timestamp", "reddit": "created_utc",
           "google_reviews": "createTime", "allegro": "createdAt", "vk": "date", "youtube": "publishedAt",
           "trustpilot": "createdAt"}


def due(_item):
    return datetime.now(UTC) + timedelta(hours=1)


@pytest.fixture
def db(sqlite_url):
    database = Database(sqlite_url)
    database.migrate()
    yield database
    database.dispose()


def add_source(db: Database, name: str, platform: str) -> None:
    with db.session() as session:
        session.add(Source(name=name, platform=platform))


def stored_ids(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(Post.external_id)))


def lenient_need(original):
    """The parser fix of the test: a missing field every reader needs gets a usable value."""
    defaults = {"author_id": "3999999999", "created_utc": datetime.now(UTC).timestamp() - 60,
                "date": int(datetime.now(UTC).timestamp()) - 60}
    stamp = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    stamped = ("created_time", "timestamp", "createTime", "createdAt", "publishedAt")

    def need(obj, key, kind, where):
        if isinstance(obj, dict) and obj.get(key) is None and key in (*defaults, *stamped):
            obj = {**obj, key: defaults.get(key, stamp)}
        return original(obj, key, kind, where)
    return need


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unreadable_item_in_the_first_stream_waits_in_quarantine_and_the_rest_is_stored(
        fake, connect, db, platform, monkeypatch):
    ids = [fake.add_post(platform, f"DemoShop item {n}: where is my parcel? @DemoShop u/DemoShop", kind=KIND[platform],
                         author=f"customer{n}", minutes_ago=60 - n, rating=4) for n in range(5)]
    broken = ids[-1]  # newest first: the first item of the first page
    connector = connect(platform, **({"query": "nothing-matches-this"} if platform == "x" else {}))
    name = connector.name
    add_source(db, name, platform)
    fake.fail_next(platform, "malformed", after=FIRST_ITEMS_READ[platform], on="read")

    result = poll_source(db, name, connector, due)

    assert result.ok and result.error is None, result
    assert result.quarantined == 1
    assert set(ids) - {broken} <= stored_ids(db)  # everything else, from every page and stream
    [held] = quarantine.list_items(db)
    assert held["source"] == name and held["stream"] == FIRST_STREAM[platform]
    assert MISSING[platform] in held["error"]
    assert "DemoShop item 4" in quarantine.show(db, held["id"])["payload"]
    with db.session() as session:
        stream = session.exec(select(SourceStream).where(SourceStream.stream == FIRST_STREAM[platform])).one()
        assert stream.bookmark and stream.last_error is None and stream.last_success_at is not None

    # The stream moved past it: the next poll neither stops nor holds it again.
    assert poll_source(db, name, connector, due).quarantined == 0
    assert quarantine.list_items(db)[0]["seen_count"] == 1

    # A retry before the fix keeps it waiting, with the error; after the fix it is stored.
    again = quarantine.retry(db, held["id"], "tester", lambda _: connector, due)
    assert not again.stored and MISSING[platform] in again.error
    module = type(connector).__module__
    monkeypatch.setattr(f"{module}.need", lenient_need(connectors._paging.need))
    fixed = quarantine.retry(db, held["id"], "tester", lambda _: connector, due)
    assert fixed.stored and fixed.post_id is not None
    with db.session() as session:
        post = session.get(Post, fixed.post_id)
        assert post.external_id == broken and "DemoShop item 4" in post.text
        assert session.get(QuarantinedItem, held["id"]).state == "stored"
    assert quarantine.list_items(db) == []


@pytest.mark.parametrize("platform, first, later", [("x", "mentions", "search"), ("reddit", "mentions", "comments")])
def test_a_failing_first_stream_does_not_starve_the_others(fake, connect, db, platform, first, later):
    ids = [fake.add_post(platform, f"Demo Shop shipped order {n} fast", kind="comment", author=f"c{n}",
                         minutes_ago=30 - n) for n in range(5)]
    connector = connect(platform)
    add_source(db, connector.name, platform)
    fake.fail_next(platform, "truncated", on="read")  # the first stream's first page breaks off

    result = poll_source(db, connector.name, connector, due)

    assert result.error is None and first in result.stream_errors and later in result.streams_done
    assert set(ids) <= stored_ids(db)   # found by the later stream
    with db.session() as session:
        rows = {s.stream: s for s in session.exec(select(SourceStream))}
    assert rows[first].last_error and rows[first].error_count == 1 and rows[first].bookmark is None
    assert rows[later].last_error is None and rows[later].bookmark
    # The next poll reads the first stream again from where it stood; its health recovers.
    result = poll_source(db, connector.name, connector, due)
    assert result.ok and not result.stream_errors
    with db.session() as session:
        assert session.exec(select(SourceStream).where(SourceStream.stream == first)).one().last_error is None


def test_every_stream_failing_makes_the_source_fail(fake, connect, db):
    fake.add_post("x", "@DemoShop hello", minutes_ago=5)
    connector = connect("x")
    add_source(db, connector.name, "x")
    fake.fail_next("x", "server_error", times=2, on="read")
    result = poll_source(db, connector.name, connector, due)
    assert result.error and "mentions" in result.error and "search" in result.error
    with db.session() as session:
        assert session.exec(select(Source)).one().last_error


def test_a_source_bookmark_from_before_streams_is_split_once_and_kept(fake, connect, db):
    """Bookmarks stored per source are taken over per stream: nothing collected twice or skipped."""
    old = seed(fake, "reddit", 3, start=50, tag="old")
    connector = connect("reddit")
    combined = None
    for page in connector.collect(None):   # the single-bookmark contract, as stored before streams
        combined = page.bookmark or combined
    add_source(db, connector.name, "reddit")
    with db.session() as session:
        source = session.exec(select(Source)).one()
        source.bookmark = combined
        session.add(source)
    later = seed(fake, "reddit", 2, start=10, tag="later")

    result = poll_source(db, connector.name, connector, due)

    assert result.ok and stored_ids(db) == set(later) and not set(old) & stored_ids(db)
    with db.session() as session:
        assert session.exec(select(Source)).one().bookmark is None
        assert {s.stream for s in session.exec(select(SourceStream))} == set(json.loads(combined))


def test_quarantined_payloads_are_scrubbed_capped_and_held_once(db):
    from connectors._http import register_secret
    from connectors.base import Unreadable
    register_secret("sup3r-secret-token-value")
    add_source(db, "s", "x")
    huge = {"text": "x" * 200_000, "token": "sup3r-secret-token-value", "odd": "\ud800 lone surrogate"}
    with db.session() as session:
        source = session.exec(select(Source)).one()
        assert quarantine.hold(session, source, "mentions", [Unreadable("no author_id", huge, "1")]) == 1
        assert quarantine.hold(session, source, "mentions", [Unreadable("no author_id", huge, "1")]) == 0
    [row] = quarantine.list_items(db)
    shown = quarantine.show(db, row["id"])
    assert "sup3r-secret-token-value" not in shown["payload"] and shown["truncated"]
    assert len(shown["payload"]) <= quarantine.MAX_PAYLOAD_CHARS and row["seen_count"] == 2
    result = quarantine.retry(db, row["id"], "tester", lambda _: None, due)
    assert not result.stored and "cut" in result.error
    quarantine.drop(db, row["id"], "tester", "junk")
    assert quarantine.list_items(db) == [] and quarantine.list_items(db, ())[0]["state"] == "dropped"


def test_a_person_sees_and_handles_quarantine_from_the_cli(fake, sqlite_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from monitor.cli import app
    from monitor.fakes.demo import demo_secret_env, demo_sources

    sources = [s for s in demo_sources(fake.base_url, fake.brand) if s["platform"] in ("reddit", "google_reviews")]
    lines = ['[app]\nuser = "tester"\n']
    for source in sources:
        lines.append("[[sources]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in source.items()))
    (tmp_path / "settings.toml").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setenv("MONITOR_SETTINGS", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("MONITOR_DATABASE_URL", sqlite_url)
    for key, value in demo_secret_env(sources).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    first = fake.add_post("google_reviews", "Paczka dotarła uszkodzona", rating=2, minutes_ago=30)
    fake.add_post("google_reviews", "Wszystko super", rating=5, minutes_ago=20)
    fake.fail_next("google_reviews", "malformed", on="read")
    from monitor.service import Monitor
    from monitor.settings import load_settings
    service = Monitor(load_settings(str(tmp_path / "settings.toml")))
    service.init()
    [result] = service.poll("demo-google")
    service.close()
    assert result.ok and result.quarantined == 1

    code, output = cli("sources", "--json")
    assert code == 0 and {s["name"]: s["quarantined"] for s in json.loads(output)}["demo-google"] == 1
    code, output = cli("quarantine", "list", "--json")
    [held] = json.loads(output)
    assert held["stream"] == "reviews" and "createTime" in held["error"]
    code, output = cli("quarantine", "show", str(held["id"]))
    assert code == 0 and "Wszystko super" in output and "demo-google-refresh_token" not in output
    code, output = cli("quarantine", "retry", str(held["id"]))
    assert code == 1 and "still cannot be read" in output
    monkeypatch.setattr("connectors.google_reviews.need", lenient_need(connectors._paging.need))
    code, output = cli("quarantine", "retry", str(held["id"]))
    assert code == 0 and "stored as post" in output
    code, output = cli("quarantine", "drop", str(held["id"]), "--reason", "seen")
    assert code == 4  # no longer waiting
    code, output = cli("quarantine", "list", "--json")
    assert json.loads(output) == []
    assert first


def test_a_source_that_changes_platform_forgets_its_stream_bookmarks(make_settings):
    from monitor.service import Monitor
    first = make_settings('[[sources]]\nname = "shop"\nplatform = "x"\naccount_id = "1"\n')
    service = Monitor(first, environ={})
    service.init()
    with service.db.session() as session:
        source = session.exec(select(Source)).one()
        session.add(SourceStream(source_id=source.id, stream="mentions", bookmark='"123"'))
    service.settings = make_settings('[[sources]]\nname = "shop"\nplatform = "google_reviews"\n'
                                     'account_id = "1"\nlocation_id = "2"\n')
    service.sync_sources()
    with service.db.session() as session:
        assert session.exec(select(Source)).one().platform == "google_reviews"
        assert session.exec(select(SourceStream)).all() == []
    service.close()
