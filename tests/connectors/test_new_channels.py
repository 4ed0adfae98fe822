"""What is particular to the channels Polish and Russian shops are reviewed on (Allegro, VK,
YouTube, Trustpilot), beyond the contract every platform's tests check: an answer written once,
rotating refresh tokens, quotas, VK's comment counts and long threads,
YouTube's replies beyond the five a thread carries, and `monitor init` on their settings."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from connectors._http import scrub
from connectors.base import PostRejected, RateLimited
from monitor.cli import app
from monitor.fakes.demo import demo_secret_env, demo_sources
from tests.connectors.conftest import Collector, seed, target_of
from tests.connectors.test_settings_and_secrets import build, source_for

NEW = ["allegro", "vk", "youtube", "trustpilot"]
TEXT = "Dziękujemy za opinię, sprawdzamy zamówienie i odezwiemy się jeszcze dziś."


def collected(fake, connect, platform, count=2):
    connector = connect(platform)
    ids = seed(fake, platform, count)
    items = {i.external_id: i for i in Collector(connector).run()}
    return connector, [items[i] for i in ids]


# --- replies ------------------------------------------------------------------------------------
# (Reconciliation on these platforms is tested with every platform's in test_reconcile.py.)

def test_an_unreadable_trustpilot_review_is_quarantined_without_the_consumers_email(fake, connect):
    seed(fake, "trustpilot", 2)
    fake.fail_next("trustpilot", "malformed", on="read")
    pages = list(connect("trustpilot").collect(None))

    [held] = [u for page in pages for u in page.unreadable]
    assert "createdAt" in held.error and held.payload["id"] and held.payload["text"]
    assert "referralEmail" not in held.payload and "referenceId" not in held.payload
    assert sum(len(page.items) for page in pages) == 1


def test_allegro_answer_is_written_once(fake, connect):
    connector, (first, _) = collected(fake, connect, "allegro")
    connector.reply(target_of(first), TEXT)
    with pytest.raises(PostRejected):
        connector.reply(target_of(first), TEXT)
    assert len(fake.replies("allegro")) == 1


# --- tokens and quotas -------------------------------------------------------------------------

@pytest.mark.parametrize("platform", ["allegro", "trustpilot"])
def test_a_rotated_refresh_token_is_used_for_the_next_renewal_and_kept_secret(fake, connect, platform):
    connector, _ = collected(fake, connect, platform)
    first_rotated = connector.api.refresh_token
    assert first_rotated.startswith(f"fake-{platform}-refresh-")
    fake.fail_next(platform, "auth_expired", on="read")    # the access token expired

    assert Collector(connector).run() is not None
    assert fake.state.refresh_tokens_used[-1] == first_rotated
    assert scrub(f"refresh with {first_rotated}") == "refresh with ***"


@pytest.mark.parametrize("platform", ["allegro", "trustpilot"])
def test_a_token_file_keeps_the_rotated_refresh_token_across_restarts(fake, connect, platform, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    token_file = tmp_path / f"{platform}.token"
    first = connect(platform, token_file=str(token_file))
    seed(fake, platform, 2)
    Collector(first).run()
    rotated = first.api.refresh_token
    assert token_file.stat().st_mode & 0o777 == 0o600 and rotated in token_file.read_text()

    restarted = connect(platform, token_file=str(token_file))      # the same configured secret
    Collector(restarted).run()
    assert fake.state.refresh_tokens_used[-1] == rotated

    source, options = source_for(platform, fake.base_url)           # a person authorised the app again
    environ = demo_secret_env([source])
    environ[next(k for k in environ if k.endswith("REFRESH_TOKEN"))] = "a-new-refresh-token-from-a-person"
    reauthorised = build(platform, {**options, "token_file": str(token_file)}, environ)
    Collector(reauthorised).run()
    reauthorised.close()
    assert fake.state.refresh_tokens_used[-1] == "a-new-refresh-token-from-a-person"
    assert rotated not in caplog.text


def test_a_token_file_in_a_missing_folder_is_a_settings_error(tmp_path):
    source, options = source_for("allegro")
    with pytest.raises(Exception) as raised:
        build("allegro", {**options, "token_file": str(tmp_path / "nowhere" / "allegro.token")})
    assert raised.value.key == f"[[sources]] {source['name']} token_file" and "does not exist" in raised.value.message


def test_allegro_rating_without_marks_counts_by_recommendation(fake, connect):
    """Since February 2025 buyers only recommend or not; older ratings also carry 1-5 marks."""
    good = fake.add_post("allegro", "Polecam", rating=5, minutes_ago=3)
    bad = fake.add_post("allegro", "Nie polecam", rating=2, minutes_ago=2)
    for rating_id in (good, bad):
        fake.state.items[rating_id].extra["no_marks"] = True
    items = {i.external_id: i for i in Collector(connect("allegro")).run()}
    assert (items[good].rating, items[bad].rating) == (5, 1)
    assert items[bad].extra["recommended"] is False


def test_youtube_spent_daily_quota_waits_until_midnight_pacific(fake, connect):
    seed(fake, "youtube", 2)
    fake.fail_next("youtube", "api_ratelimit")
    with pytest.raises(RateLimited) as raised:
        Collector(connect("youtube")).run()
    pacific = ZoneInfo("America/Los_Angeles")
    midnight = datetime.combine(datetime.now(pacific).date() + timedelta(days=1), time(0), pacific)
    assert abs((raised.value.until - midnight).total_seconds()) < 5


def test_youtube_client_is_built_offline_from_the_shipped_discovery_document(fake, connect):
    connector = connect("youtube")       # the loopback guard fails any other connection or lookup
    assert fake.requests("youtube") == []
    assert connector.api._baseUrl.rstrip("/") == fake.base_url


def test_vk_daily_method_limit_is_an_hour_away(fake, connect):
    seed(fake, "vk", 2)
    fake.fail_next("vk", "api_ratelimit")
    with pytest.raises(RateLimited) as raised:
        Collector(connect("vk")).run()
    assert 3500 < (raised.value.until - datetime.now(UTC)).total_seconds() <= 3600


# --- what VK and YouTube read ------------------------------------------------------------------

def test_vk_reads_only_posts_whose_comment_count_changed(fake, connect):
    seed(fake, "vk", 3)
    collector = Collector(connect("vk"))
    collector.run()
    before = len(fake.requests("vk"))

    assert collector.run() == []
    calls = [r.path for r in fake.requests("vk")[before:]]
    assert calls == ["/method/wall.get"]                # nothing new: no comments read

    later = seed(fake, "vk", 1, start=1, tag="later")
    assert [i.external_id for i in collector.run()] == later


def test_vk_an_old_pinned_post_is_watched_and_does_not_end_the_wall(fake, connect):
    from monitor.fakes.state import Item, utc
    brand = fake.brand
    recent = seed(fake, "vk", 2)                      # on a post of three days ago
    with fake.state.lock:   # pinned a month ago: VK lists it first, before the newer posts
        fake.state.add(Item(id="90001", platform="vk", kind="vk_post", text="Regulamin sklepu", author=brand.vk_group_name,
                            author_id=f"-{brand.vk_group_id}", created=utc(minutes_ago=30 * 24 * 60), by_brand=True,
                            extra={"pinned": True}))
    on_pinned = fake.add_post("vk", "А возврат через почту возможен?", kind="comment", parent="90001", author="li",
                              minutes_ago=1)
    assert sorted(i.external_id for i in Collector(connect("vk")).run()) == sorted(recent + [on_pinned])


def test_vk_threads_longer_than_what_comes_inline_are_read_whole(fake, connect):
    top = fake.add_post("vk", "Когда будет распродажа?", kind="comment", author="anna", minutes_ago=60)
    replies = [fake.add_post("vk", f"+{n}", kind="reply", parent=top, author=f"user{n}", minutes_ago=50 - n)
               for n in range(13)]
    items = {i.external_id: i for i in Collector(connect("vk")).run()}
    assert set(replies) <= set(items) and all(items[r].kind == "reply" for r in replies)


def test_vk_replies_are_posted_as_the_community(fake, connect):
    connector, (first, _) = collected(fake, connect, "vk")
    reply_id = connector.reply(target_of(first), TEXT)
    posted = fake.state.items[reply_id]
    assert posted.by_brand and posted.author_id == f"-{fake.brand.vk_group_id}"


def test_youtube_threads_with_more_than_five_replies_are_read_whole_when_they_grew(fake, connect):
    top = fake.add_post("youtube", "Which size should I take?", kind="comment", author="ola", minutes_ago=60)
    replies = [fake.add_post("youtube", f"reply {n}", kind="reply", parent=top, author=f"user{n}",
                             minutes_ago=50 - n) for n in range(7)]
    collector = Collector(connect("youtube"))
    items = {i.external_id: i for i in collector.run()}
    assert set(replies) <= set(items)
    assert all(items[r].extra["reply_object"] == top for r in replies)

    def listed_replies():
        return sum(1 for r in fake.requests("youtube") if r.path == "/youtube/v3/comments")

    before = listed_replies()
    assert collector.run() == [] and listed_replies() == before      # unchanged: no quota spent on it
    later = fake.add_post("youtube", "reply 8", kind="reply", parent=top, author="late", minutes_ago=1)
    assert [i.external_id for i in collector.run()] == [later] and listed_replies() > before


# --- settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform, key, value, words", [
    ("vk", "group_id", "club123", "numeric id"),
    ("youtube", "channel_id", "@DemoShop", "'UC' and 22 more"),
    ("trustpilot", "business_user_id", "me", "24-character id"),
    ("allegro", "redirect_uri", "not a url", "redirect URL"),
    ("allegro", "page_size", 500, "between 1 and 100"),
])
def test_bad_values_of_the_new_channels_are_explained(platform, key, value, words):
    source, options = source_for(platform)
    options[key] = value
    with pytest.raises(Exception) as raised:
        build(platform, options)
    assert raised.value.key == f"[[sources]] {source['name']} {key}" and words in raised.value.message


def test_monitor_init_checks_the_new_channels_settings(tmp_path):
    database = f"sqlite:///{tmp_path}/m.db"
    lines = [f'[app]\ndatabase_url = "{database}"']
    for source in demo_sources("https://example.invalid"):
        if source["platform"] in NEW:
            lines.append("[[sources]]\n" + "\n".join(
                f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"'
                for k, v in source.items() if k not in ("base_url", "token_uri")))
    path = tmp_path / "settings.toml"
    path.write_text("\n".join(lines).replace('group_id = "', 'group_id = "club'), encoding="utf-8")
    result = CliRunner().invoke(app, ["--settings", str(path), "init"], env=demo_secret_env())
    assert result.exit_code == 2 and "demo-vk group_id" in result.output

    path.write_text("\n".join(lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["--settings", str(path), "init"], env=demo_secret_env())
    assert result.exit_code == 0, result.output
    assert "not-a-real-secret" not in result.output


def test_request_benchmark_runs():
    """bench/channel_requests.py backs the README's quota figures; it must keep running (its
    figures are printed, not asserted here)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "bench.channel_requests", "--backlog", "12", "--json"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(NEW) <= set(json.loads(done.stdout))
