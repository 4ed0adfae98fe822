"""`monitor fakes serve` as a user starts it: a process of its own, polled through configured
sources, driven through its control endpoints, stopped by SIGTERM."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests
from sqlmodel import func, select

from models import Post
from tests.connectors.conftest import monitor_on

ROOT = Path(__file__).resolve().parents[2]
START_LIMIT = 120   # seconds: generous upper bound on a busy machine, not a timing assertion


def start(*args: str) -> tuple[subprocess.Popen, "queue.Queue[str]"]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "monitor.cli", "fakes", "serve", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    return process, lines


def wait_for(lines: "queue.Queue[str]", text: str) -> str:
    while True:
        line = lines.get(timeout=START_LIMIT)
        if text in line:
            return line


def test_fakes_serve_is_polled_through_configured_sources(make_settings):
    process, lines = start("--seed", "10", "--port", "0", "--page-size", "2")
    try:
        ready = wait_for(lines, "fake platforms serving on ")
        base_url = ready.split(" serving on ")[1].split()[0]
        assert "with 10 post(s)" in ready
        monitor = monitor_on(base_url, make_settings)
        try:
            results = monitor.poll()
            assert all(r.ok for r in results), [r.error for r in results]
            with monitor.db.session() as session:
                per_platform = dict(session.exec(select(Post.platform, func.count()).group_by(Post.platform)).all())
            assert per_platform == {"x": 2, "facebook": 2, "instagram": 2, "reddit": 2, "google_reviews": 2}

            answer = requests.post(f"{base_url}/_fake/fail", json={"platform": "facebook", "kind": "rate_limit",
                                                                   "on": "read"}, timeout=10)
            assert answer.status_code == 200
            (facebook,) = monitor.poll("demo-facebook", force=True)
            assert facebook.rate_limited_until is not None
            seen = requests.get(f"{base_url}/_fake/requests", timeout=10).json()["requests"]
            assert any(r["failed"] == "rate_limit" and r["platform"] == "facebook" for r in seen)
            assert requests.get(f"{base_url}/_fake/replies", timeout=10).json() == {"replies": []}
        finally:
            monitor.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=START_LIMIT) == 0
    assert wait_for(lines, "fake platforms stopped")


def test_a_taken_port_is_a_clear_error():
    process, lines = start("--seed", "none", "--port", "0")
    try:
        base_url = wait_for(lines, "serving on ").split(" serving on ")[1].split()[0]
        port = base_url.rsplit(":", 1)[1]
        second, second_lines = start("--port", port)
        assert second.wait(timeout=START_LIMIT) == 2
        assert f"cannot listen on 127.0.0.1:{port}" in wait_for(second_lines, "cannot listen")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=START_LIMIT)
