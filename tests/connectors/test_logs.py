"""Logs an operator can follow: a timestamped line per poll, every reply outcome with its post
and reason, the source named in every warning, and no library warning about a retry that
does not happen."""
from __future__ import annotations

import logging
import re

import pytest

from connectors.base import ConnectorError
from monitor.logs import formatter
from tests.connectors.conftest import PLATFORMS, Collector, seed, target_of
from tests.connectors.test_reconcile import ANNA, TO_ANNA, approve_and_drop, collected, outbox_of
from tests.connectors.test_resume import after_first_poll
from tests.connectors.test_sweep import containers


def lines(caplog, level=logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


def test_a_line_carries_a_utc_timestamp_level_and_origin():
    record = logging.LogRecord("monitor.collect", logging.INFO, __file__, 1, "poll %s", ("x-main",), None)
    line = formatter().format(record)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO monitor\.collect: poll x-main", line)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_one_info_line_per_poll_names_source_kinds_counts_and_seconds(fake, shop, platform, caplog):
    caplog.set_level(logging.INFO)
    seed(fake, platform, 3)
    collected(shop, platform)
    polls = [line for line in lines(caplog) if line.startswith("poll ")]
    assert len(polls) == 1, polls
    assert re.search(rf"poll demo-\S+ \({platform}\): read 3 \w+; 3 new, 0 updated, \d+ page\(s\) in \d+\.\d\d s; done",
                     polls[0]), polls[0]


def test_every_reply_outcome_is_logged_with_its_post_and_reason(fake, shop, caplog):
    caplog.set_level(logging.INFO)
    top = fake.add_post("facebook", "Demo Shop, where is my refund?", kind="comment", author="anna", minutes_ago=10)
    ids = collected(shop, "facebook")
    post_id = ids[top]
    approve_and_drop(shop, fake, "facebook", post_id, TO_ANNA)
    fake.fail_next("facebook", "disconnect", on="read")               # the check fails: for a person
    shop.post_approved()
    row = outbox_of(shop, post_id)
    assert row.state == "needs_person"
    shop.retry_reply(row.id, ANNA)
    shop.post_approved()

    said = [line for line in lines(caplog) if line.startswith(f"reply {row.id} to post {post_id}")]
    assert any("uncertain: network error" in line for line in said), said
    assert any("needs_person: could not check the platform" in line for line in said), said
    assert any("retry by anna (was needs_person)" in line for line in said), said
    assert any(f"sent as {outbox_of(shop, post_id).external_reply_id}" in line for line in said), said


def test_reconciled_deferred_failed_and_cancelled_replies_are_logged(fake, shop, caplog):
    caplog.set_level(logging.INFO)
    first = fake.add_post("facebook", "Demo Shop, where is my refund?", kind="comment", author="anna", minutes_ago=10)
    second = fake.add_post("facebook", "Demo Shop, wrong size", kind="comment", author="ola", minutes_ago=9)
    ids = collected(shop, "facebook")
    shop.approve(ids[first], ANNA, text=TO_ANNA)
    fake.fail_next("facebook", "lost_response", on="write")
    shop.post_approved()
    shop.post_approved()
    shop.approve(ids[second], ANNA, text="We will exchange it.")
    fake.fail_next("facebook", "auth_expired", on="write")
    shop.post_approved()
    del fake.state.items[second]                                       # deleted on Facebook meanwhile
    shop.post_approved()
    row = outbox_of(shop, ids[second])
    assert row.state == "failed"
    shop.cancel_reply(row.id, ANNA, "deleted by its author")

    said = lines(caplog)
    assert any(f"to post {ids[first]} (demo-facebook, facebook): reconciled: already on the platform as" in line for line in said)
    assert any(f"to post {ids[second]} (demo-facebook, facebook): deferred: facebook (replying): the access token" in line
               for line in said)
    assert any(f"to post {ids[second]} (demo-facebook, facebook): failed: facebook (replying): Graph API refused" in line
               for line in said)
    assert any(f"reply {row.id} to post {ids[second]}: cancel by anna (was failed); reason: deleted by its author"
               in line for line in said)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_page_limit_warnings_name_the_source(fake, connect, platform, caplog):
    caplog.set_level(logging.WARNING)
    collector, _ = after_first_poll(fake, connect, platform)
    collector.run()
    # Ours, not a client library's own (prawcore warns of a retried read on a busy machine).
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.WARNING and r.name.startswith(("connectors", "monitor"))]
    assert warnings, "the burst did not reach the page limit: the check would prove nothing"
    assert all(f"demo-{'google' if platform == 'google_reviews' else platform}" in w for w in warnings), warnings


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_graph_listing_limit_warnings_name_the_source(fake, connect, platform, caplog):
    caplog.set_level(logging.WARNING)
    containers(fake, platform)
    Collector(connect(platform, max_pages=2)).run()
    warnings = lines(caplog, logging.WARNING)
    assert warnings and all(f"demo-{platform}" in w for w in warnings), warnings


def test_reddit_does_not_warn_of_a_retry_of_a_reply_it_never_makes(fake, connect, caplog):
    caplog.set_level(logging.DEBUG)
    connector = connect("reddit")
    seed(fake, "reddit", 1)
    item = Collector(connector).run()[0]
    fake.fail_next("reddit", "disconnect", on="write")

    with pytest.raises(ConnectorError, match="may have been posted, so it is not sent again"):
        connector.reply(target_of(item), TO_ANNA)

    # Reads may be retried (prawcore does so for GETs, rightly); the reply's POST never is.
    assert not [m for m in lines(caplog, logging.DEBUG) if "Retrying" in m and "POST" in m]
    writes = [r for r in fake.requests("reddit") if r.method == "POST" and "comment" in r.path]
    assert len(writes) == 1
