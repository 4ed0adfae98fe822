"""`monitor doctor` against the fake platforms: a healthy source, one whose token expired, one
that cannot be reached; the Graph token's end from debug_token; an exit code and a table."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from typer.testing import CliRunner

from connectors.base import AuthExpired
from models import utcnow
from monitor.cli import app
from monitor.fakes.demo import demo_secret_env, demo_sources
from monitor.fakes.server import TOKEN_PATHS
from tests.connectors.conftest import PLATFORMS
from tests.daemon.fakes_support import toml_value
from tests.daemon.receivers import free_port


def write_settings(tmp_path, fake, sqlite_url, *, unreachable: str = "x",
                   platforms: tuple[str, ...] = ("x", "facebook", "google_reviews")) -> tuple[str, dict[str, str]]:
    chosen = [s for s in demo_sources(fake.base_url, fake.brand) if s["platform"] in platforms]
    text = '[app]\ntimezone = "Europe/Warsaw"\n[alerts]\nexpiry_warning_days = 7\n'
    for source in chosen:
        if source["platform"] == unreachable:
            source = {**source, "base_url": f"http://127.0.0.1:{free_port()}"}
        text += "\n[[sources]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in source.items())
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    env = {**demo_secret_env(chosen), "MONITOR_SETTINGS": str(path), "MONITOR_DATABASE_URL": sqlite_url}
    return str(path), env


def by_area(output: str) -> dict[str, dict]:
    return {row["area"]: row for row in json.loads(output)}


def test_doctor_tells_healthy_expired_and_unreachable_apart(fake, tmp_path, sqlite_url):
    _, env = write_settings(tmp_path, fake, sqlite_url)
    runner = CliRunner()
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    fake.fail_next("google_reviews", "auth_expired", times=20)
    result = runner.invoke(app, ["doctor", "--json"], env=env)
    assert result.exit_code == 1, result.output
    rows = by_area(result.output)
    assert rows["source demo-facebook"]["status"] == "ok" and rows["source demo-facebook"]["expires_at"]
    assert rows["source demo-google"]["status"] == "fail" and "re-authorisation" in rows["source demo-google"]["detail"]
    assert rows["source demo-x"]["status"] == "fail" and "unreachable" in rows["source demo-x"]["detail"]
    assert rows["settings"]["status"] == "ok" and rows["time zone"]["detail"].startswith("Europe/Warsaw")
    assert rows["alerts"]["status"] == "warn" and rows["clock"]["status"] in ("ok", "warn")
    assert rows["database"]["status"] == "ok"
    for name, secret in env.items():
        assert not name.startswith("MONITOR_SECRET_") or secret not in result.output


def test_doctor_warns_before_a_graph_token_expires_and_passes_when_all_is_well(fake, tmp_path, sqlite_url):
    _, env = write_settings(tmp_path, fake, sqlite_url, unreachable="none")
    runner = CliRunner()
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    fake.state.token_expires_at = utcnow() + timedelta(days=3)
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 0, result.output                        # a warning is not a failure
    assert "warn" in result.output and "in 3 day(s)" in result.output
    rows = by_area(runner.invoke(app, ["doctor", "--json"], env=env).output)
    assert rows["database"]["status"] == "ok" and rows["source demo-facebook"]["status"] == "warn"
    assert {rows[a]["status"] for a in ("source demo-x", "source demo-google")} == {"ok"}
    fake.state.token_expires_at = utcnow() - timedelta(hours=1)
    rows = by_area(runner.invoke(app, ["doctor", "--json"], env=env).output)
    assert rows["source demo-facebook"]["status"] == "fail" and "expired" in rows["source demo-facebook"]["detail"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_checks_its_credentials_with_one_cheap_call(fake, connect, platform):
    source = next(s for s in demo_sources(fake.base_url, fake.brand) if s["platform"] == platform)
    secrets = demo_secret_env([source]).values()
    info = connect(platform).check_credentials()

    assert info is not None and info.detail and not any(secret in info.detail for secret in secrets)
    calls = [r for r in fake.requests() if r.path.rstrip("/") not in TOKEN_PATHS]   # (renewals aside)
    assert 1 <= len(calls) <= 2 and all(r.method == "GET" for r in calls)
    assert fake.replies(platform) == []
    # Revoked (renewing is refused as well); Instagram's token is checked at Graph's debug_token,
    # which the fake counts as Facebook's.
    for failing in {"instagram": ("instagram", "facebook")}.get(platform, (platform,)):
        fake.fail_next(failing, "auth_expired", times=20)
    with pytest.raises(AuthExpired):
        connect(platform).check_credentials()


def test_doctor_warns_before_a_trustpilot_refresh_token_runs_out(fake, tmp_path, sqlite_url):
    """Trustpilot says at each renewal how long the new refresh token lasts; the others do not."""
    _, env = write_settings(tmp_path, fake, sqlite_url, unreachable="none",
                            platforms=("allegro", "vk", "youtube", "trustpilot"))
    runner = CliRunner()
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    rows = by_area(runner.invoke(app, ["doctor", "--json"], env=env).output)
    assert {rows[f"source demo-{p}"]["status"] for p in ("allegro", "vk", "youtube", "trustpilot")} == {"ok"}
    assert rows["source demo-trustpilot"]["expires_at"] and not rows["source demo-allegro"]["expires_at"]

    fake.state.refresh_token_lifetime = 3 * 24 * 3600
    result = runner.invoke(app, ["doctor", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert by_area(result.output)["source demo-trustpilot"]["status"] == "warn"
    assert "in 3 day(s)" in by_area(result.output)["source demo-trustpilot"]["detail"]
