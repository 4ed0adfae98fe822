"""The CLI end to end, as a person and as scripts use it: the demo on the fake platforms through
the real connectors, the queue, show, decisions, posting, exit codes; and several `monitor post`
processes at once against one fake platform server, each reply posted once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.decisions import Actor
from monitor.queue import QueueFilter
from monitor.service import Monitor
from monitor.settings import load_settings
from monitor.fakes import FakePlatforms
from monitor.fakes.demo import demo_secret_env, demo_sources

DEMO_POSTS = 20


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("MONITOR_DEMO_DATABASE_URL", database_url)
    monkeypatch.setenv("MONITOR_SETTINGS", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.output
    return run


def queue_json(cli, *args: str) -> list[dict]:
    code, output = cli("--demo", "queue", "--json", *args)
    assert code == 0, output
    return json.loads(output)


def test_demo_then_review_approve_post(cli):
    code, output = cli("demo", "--no-fresh")
    assert code == 0, output
    assert "collected" in output and "Review queue (20)" in output
    items = queue_json(cli)
    assert len(items) == DEMO_POSTS
    assert {i["platform"] for i in items} == {"x", "facebook", "instagram", "reddit", "google_reviews"}
    assert {i["language"] for i in items} == {"pl", "ru", "en"}
    severities = [i["severity"] + (0.2 if i["overdue"] else 0) for i in items]
    assert severities == sorted(severities, reverse=True)           # urgency, never channel
    flagged = queue_json(cli, "--flagged")
    assert flagged and all(i["flagged"] for i in flagged)
    assert all(i["language"] == "ru" for i in queue_json(cli, "--language", "ru"))
    # one page at a time: the next page starts after the last id shown
    first = queue_json(cli, "--limit", "3")
    second = queue_json(cli, "--limit", "3", "--after", str(first[-1]["id"]))
    assert [i["id"] for i in first + second] == [i["id"] for i in items[:6]]
    code, output = cli("--demo", "queue", "--limit", "3")
    assert code == 0 and f"of {DEMO_POSTS}" in output and f"monitor queue --after {first[-1]['id']} --limit 3" in output

    target = next(i for i in items if i["topic"] != "legal_threat" and i["strategy"] not in ("escalate", "do_not_reply"))
    code, output = cli("--demo", "show", str(target["id"]))
    assert code == 0 and "draft" in output and "why" in output
    code, output = cli("--demo", "--as", "anna", "approve", str(target["id"]), "--text", "Dziękujemy, sprawdzamy to dziś.",
                       "--override", "test of the loop")
    assert code == 0, output
    code, output = cli("--demo", "approve", str(target["id"]), "--draft", str(target["draft_id"]))
    assert code == 4 and "already approved" in output                 # twice creates nothing
    code, output = cli("--demo", "post", "--json")
    assert code == 0, output
    assert len(json.loads(output)["sent"]) == 1
    code, output = cli("--demo", "show", str(target["id"]), "--json")
    detail = json.loads(output)
    assert detail["outbox"]["state"] == "sent" and detail["outbox"]["text"] == "Dziękujemy, sprawdzamy to dziś."
    assert detail["decisions"][0]["actor"] == "anna"
    code, output = cli("--demo", "post", "--json")
    assert json.loads(output)["sent"] == []                           # nothing twice


def test_approving_a_draft_needs_to_name_the_draft_that_was_read(cli):
    assert cli("demo", "--no-fresh")[0] == 0
    item = next(i for i in queue_json(cli) if i["strategy"] == "thanks")
    code, output = cli("--demo", "approve", str(item["id"]))           # a script that read nothing
    assert code == 2 and f"--draft {item['draft_id']}" in output
    code, output = cli("--demo", "approve", str(item["id"]), "--draft", str(item["draft_id"] - 1))
    assert code == 4 and "changed since you read it" in output         # an older draft than the newest
    code, output = cli("--demo", "approve", str(item["id"]), "--draft", str(item["draft_id"]))
    assert code == 0, output
    shown = json.loads(cli("--demo", "show", str(item["id"]), "--json")[1])
    assert shown["outbox"]["text"] == shown["draft"]["text"]


def test_exit_codes_scripts_rely_on(cli):
    assert cli("demo", "--no-fresh")[0] == 0
    first = queue_json(cli)[0]["id"]
    assert cli("--demo", "show", "99999")[0] == 3
    assert cli("--demo", "approve", "99999")[0] == 3
    assert cli("--demo", "reject", str(first))[0] == 2                # --reason is required
    assert cli("--demo", "queue", "--status", "nonsense")[0] == 2
    assert cli("--demo", "escalate", str(first), "--to", "legal")[0] == 0
    assert cli("--demo", "escalate", str(first), "--to", "legal")[0] == 4
    assert queue_json(cli, "--status", "escalated")[0]["id"] == first
    code, output = cli("--demo", "sources", "--json")
    assert code == 0 and len(json.loads(output)) == 5
    code, output = cli("--demo", "stats", "--json")
    assert code == 0 and json.loads(output)["by_status"]["escalated"] == 1


def test_every_demo_command_sees_the_same_demo_posts(cli):
    """Each --demo command starts the fake platforms afresh; the posts must not look new again."""
    assert cli("demo", "--no-fresh")[0] == 0
    code, output = cli("--demo", "poll", "--json")
    assert code == 0, output
    assert sum(source["new"] for source in json.loads(output)["sources"]) == 0
    assert len(queue_json(cli)) == DEMO_POSTS


def test_empty_queue_is_a_clear_message(cli):
    code, output = cli("--demo", "queue")
    assert code == 0 and "the queue is empty" in output


def test_concurrent_monitor_post_processes_post_each_reply_once(tmp_path, database_url):
    """Three `monitor post` processes at once, one fake platform server: one reply per post."""
    with FakePlatforms.start("demo") as fake:
        sources = demo_sources(fake.base_url)
        lines = [f'[app]\ndatabase_url = "{database_url}"\n[analysis]\nbackend = "keywords"\n']
        for source in sources:
            lines.append("[[sources]]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
        settings = tmp_path / "settings.toml"
        settings.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**os.environ, **demo_secret_env(sources), "MONITOR_SETTINGS": str(settings)}
        env.pop("MONITOR_DATABASE_URL", None)
        service = Monitor(load_settings(settings, environ=env), env)   # set-up in-process: faster
        service.init()
        service.poll()
        service.process()
        ids = [item.id for item in service.queue()][:8]
        for post_id in ids:
            service.approve(post_id, Actor("anna"), text=f"Thank you, we are on it ({post_id}).", override_reason="test")
        service.close()
        monitor = [sys.executable, "-m", "monitor.cli"]
        workers = [subprocess.Popen([*monitor, "post", "--json"], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outputs = [w.communicate(timeout=120) for w in workers]
        assert all(w.returncode in (0, 1) for w in workers), outputs     # 1: some reply left uncertain
        reports = [json.loads(out) for out, _ in outputs]
        assert not any(r["failed"] or r["needs_person"] for r in reports), reports
        # A connection dropped mid-post leaves the reply uncertain; the next run asks the platform.
        settle = subprocess.run([*monitor, "post", "--json"], env=env, capture_output=True, timeout=120, text=True)
        assert settle.returncode == 0, settle.stderr
        replies = fake.replies()
        assert len(replies) == len(ids)                                     # each approved reply once
        assert len({r["in_reply_to"] for r in replies}) == len(ids)
        service = Monitor(load_settings(settings, environ=env), env)
        assert {item.outbox_state for item in service.queue(QueueFilter(status="posted"))} == {"sent"}
        assert len(service.queue(QueueFilter(status="posted"))) == len(ids)
        service.close()
