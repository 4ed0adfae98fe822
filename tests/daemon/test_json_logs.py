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
