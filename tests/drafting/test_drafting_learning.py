"""Learning from approvers end to end (CLI, demo database): edits kept as diffs, proposals from
recurring edits, acceptance into the shop's phrasings, saved replies; the migration matches the tables."""
from __future__ import annotations

import json
import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.drafting.phrasebook import load_phrases


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[drafting]\nphrases_dir = "{tmp_path / "phrases"}"\n', encoding="utf-8")
    (tmp_path / "phrases").mkdir()
    monkeypatch.setenv("MONITOR_DEMO_DATABASE_URL", database_url)
    monkeypatch.setenv("MONITOR_SETTINGS", str(settings))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.output
    run.phrases = tmp_path / "phrases"
    return run


def _queue(cli) -> list[dict]:
    code, output = cli("--demo", "queue", "--json")
    assert code == 0, output
    return json.loads(output)


def test_recurring_edits_become_a_proposal_a_person_accepts(cli):
    assert cli("demo", "--no-fresh")[0] == 0
    items = [i for i in _queue(cli) if i["strategy"] in ("four_step", "holding", "thanks") and i["platform"] != "x"]
    extra = {"pl": "Dajemy znać, gdy tylko będziemy wiedzieć więcej.", "ru": "Сообщим, как только узнаем больше.",
             "en": "We'll let you know as soon as we know more."}
    for item in items[:3]:
        shown = json.loads(cli("--demo", "show", str(item["id"]), "--json")[1])
        text = shown["draft"]["text"].split("\n–")[0] + " " + extra[item["language"]]
        code, output = cli("--demo", "approve", str(item["id"]), "--text", text, "--override", "test")
        assert code == 0, output
    language, topic = items[0]["language"], items[0]["topic"]
    code, output = cli("--demo", "drafts", "learn", "--json")       # one edit each: nothing recurs yet
    assert code == 0 and not [p for p in json.loads(output) if p["topic"] == topic and p["language"] == language]
    code, output = cli("--demo", "drafts", "learn", "--json", "--min", "1")
    assert code == 0, output
    [proposal] = [p for p in json.loads(output) if p["topic"] == topic and p["language"] == language]
    assert proposal["sentence"] == extra[language] and proposal["count"] == 1
    code, output = cli("--demo", "drafts", "learn", "--accept", proposal["id"], "--slot", "regret", "--min", "1")
    assert code == 0, output
    learned = load_phrases(str(cli.phrases))[language]
    assert extra[language] in learned["formal"][topic]["regret"]
    shipped = load_phrases()[language]["formal"]
    assert set(shipped.get(topic, {}).get("regret", [])) <= set(learned["formal"][topic]["regret"])
    assert cli("--demo", "drafts", "learn", "--accept", "nope")[0] == 2


def test_saved_replies_can_be_picked_when_approving(cli):
    assert cli("demo", "--no-fresh")[0] == 0
    code, output = cli("--demo", "saved", "add", "thanks-pl", "--text", "Dziękujemy za opinię i pozdrawiamy!",
                       "--lang", "pl")
    assert code == 0, output
    code, output = cli("--demo", "saved", "list", "--json", "--lang", "pl")
    assert [r["name"] for r in json.loads(output)] == ["thanks-pl"]
    item = next(i for i in _queue(cli) if i["language"] == "pl" and i["strategy"] == "thanks")
    code, output = cli("--demo", "approve", str(item["id"]), "--saved", "thanks-pl")
    assert code == 0, output
    shown = json.loads(cli("--demo", "show", str(item["id"]), "--json")[1])
    assert shown["outbox"]["text"] == "Dziękujemy za opinię i pozdrawiamy!"
    assert cli("--demo", "approve", str(item["id"]), "--saved", "missing")[0] in (2, 4)
    assert cli("--demo", "saved", "add", "bad name!", "--text", "x")[0] == 2


def test_migration_creates_the_learning_tables_as_the_models_say(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers the tables)
    from monitor.db import Database

    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.migrate()
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    ours = [d for d in diffs if "draftedit" in str(d) or "savedreply" in str(d)]
    assert not ours, ours
