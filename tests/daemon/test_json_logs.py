"""`[app] log_format = "json"`: every line one JSON object naming the worker, and the source and
post where known; secrets never present, not even in a connector's crash or apprise's DEBUG lines."""
from __future__ import annotations

import io
import json
import logging

from monitor.daemon.runner import Daemon
from monitor.logformat import JsonFormatter
from tests.daemon.receivers import WebhookReceiver
from tests.daemon.support import Platform, item
from tests.daemon.test_alerts import SECRET_ENV, TOKEN, alert_settings


def test_json_lines_carry_worker_source_and_post_and_no_secret(build_monitor):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        shop, broken = Platform("shop"), Platform("broken")
        shop.add(item(1, "critical: fraud!"))
        broken.add(item(1, "hello", prefix="b"))

        def crash(_page: int) -> None:
            raise RuntimeError("the client said access_token=EAAB-very-secret-123 is bad")
        broken.on_page = crash
        with WebhookReceiver() as hook:
            hook.status = 500
            monitor = build_monitor({"shop": shop, "broken": broken}, extra=alert_settings(None, hook=hook),
                                    environ={SECRET_ENV: TOKEN})
            daemon = Daemon(monitor, worker_name="night")
            daemon.run(once=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert TOKEN not in text and "EAAB-very-secret-123" not in text
    ours = [line for line in lines if line["logger"].startswith("monitor.")]
    assert ours and all(line["worker"] == daemon.worker for line in ours)
    crashed = [line for line in lines if "connector broken crashed" in line["message"]]
    assert crashed and crashed[0]["source"] == "broken"
    failed = [line for line in lines if "alert via json-" in line["message"]]
    assert failed and failed[0]["post_id"] > 0 and failed[0]["level"] == "WARNING"
    posted = [line for line in lines if line["logger"] == "apprise" and "POST URL" in line["message"]]
    assert posted and posted[0]["post_id"] == failed[0]["post_id"]       # library lines get the context too


def test_the_setting_turns_the_command_lines_logs_into_json(tmp_path, sqlite_url):
    """`[app] log_format = "json"` through the real CLI start-up: every stderr line is a JSON
    object, and the alert URL's secret (apprise logs the URL it loaded) is not in any of them."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    settings = tmp_path / "settings.toml"
    settings.write_text('[app]\nlog_level = "DEBUG"\nlog_format = "json"\n[alerts]\n'
                        'urls = ["json://127.0.0.1:9/hook/${hook_token}"]\n', encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "MONITOR_SETTINGS": str(settings),
           "MONITOR_DATABASE_URL": sqlite_url, SECRET_ENV: TOKEN}
    done = subprocess.run([sys.executable, "-m", "monitor.cli", "doctor", "--json"], env=env, capture_output=True,
                          text=True, timeout=120)
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert any(line["logger"] == "apprise" for line in lines), done.stderr
    assert TOKEN not in done.stderr and TOKEN not in done.stdout
