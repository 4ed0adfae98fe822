"""What a daemon says when it starts, and worker names as people read them."""
from __future__ import annotations

import logging
import os

from typer.testing import CliRunner

from monitor.cli import app
from monitor.db import Database
from monitor.logs import start_line, version
from monitor.outbox import readable_worker, worker_identity
from monitor.settings import SourceSettings


def test_the_start_line_names_version_database_without_password_and_sources():
    sources = [SourceSettings(name="x-main", platform="x"),
               SourceSettings(name="old-page", platform="facebook", enabled=False),
               SourceSettings(name="reviews", platform="google_reviews")]
    line = start_line("1.2.3", Database("postgresql://monitor:s3cret@db.example:5432/shop"), sources, "w1@host:42")
    assert "s3cret" not in line
    assert line.startswith("monitor 1.2.3 starting as w1@host:42: database Database(postgresql+psycopg://monitor:***@")
    assert line.endswith("2 source(s): x-main (x), reviews (google_reviews)")


def test_the_daemon_logs_its_start_line(tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[app]\ndatabase_url = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--settings", str(settings), "daemon", "--once", "--worker-id", "w1"])
    assert result.exit_code == 0, result.output
    started = [r.getMessage() for r in caplog.records if "starting as" in r.getMessage()]
    assert len(started) == 1 and started[0].startswith(f"monitor {version()} starting as w1@")
    assert f":{os.getpid()}: database Database(sqlite:///" in started[0] and "0 source(s): none" in started[0]
    assert "/" not in started[0].split(" starting as ")[1].split(":")[0]     # no PID namespace in the name
    assert f"daemon {readable_worker(worker_identity('w1'))} stopped" in result.output


def test_worker_names_leave_out_the_pid_namespace():
    assert readable_worker("w1@shop-host/4026531836:4242") == "w1@shop-host:4242"
    assert readable_worker("shop-host/4026531836:4242") == "shop-host:4242"
    assert readable_worker("shop-host:4242") == "shop-host:4242"
    assert readable_worker(None) == "nobody"
