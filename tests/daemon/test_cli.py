"""`monitor daemon` on the command line: bounded runs, clear messages and exit codes."""
from __future__ import annotations

from typer.testing import CliRunner

from tests.daemon.test_workers import _cli_app


def invoke(tmp_path, sqlite_url: str, toml: str, *args: str, env: dict | None = None):
    settings = tmp_path / "settings.toml"
    settings.write_text(toml, encoding="utf-8")
    environ = {"MONITOR_SETTINGS": str(settings), "MONITOR_DATABASE_URL": sqlite_url, **(env or {})}
    return CliRunner().invoke(_cli_app(), ["daemon", *args], env=environ)


def test_max_seconds_bounds_a_run(tmp_path, sqlite_url):
    result = invoke(tmp_path, sqlite_url, "[daemon]\nidle_seconds = 0.05\n", "--max-seconds", "0.3",
                    "--worker-id", "night-shift")
    assert result.exit_code == 0, result.output
    assert "stopped (--max-seconds reached)" in result.output and "night-shift@" in result.output
    assert "pass(es)" in result.output


def test_a_missing_alert_secret_is_a_settings_error_not_a_traceback(tmp_path, sqlite_url):
    result = invoke(tmp_path, sqlite_url, '[alerts]\nurls = ["${webhook_url}"]\n', "--once")
    assert result.exit_code == 2
    assert "MONITOR_SECRET_ALERTS_WEBHOOK_URL" in result.output and "Traceback" not in result.output


def test_an_unknown_daemon_setting_names_the_key(tmp_path, sqlite_url):
    result = invoke(tmp_path, sqlite_url, "[daemon]\npoll_faster = true\n", "--once")
    assert result.exit_code == 2 and "[daemon] poll_faster" in result.output
