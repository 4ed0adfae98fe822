"""The CLI starts fast because it imports what a command needs, when it runs: `import
monitor.cli` (and so `monitor --help`) loads no database layer, no client library and no model
runtime, and `queue` / `show` / `approve` load no client library (a platform's reply limit comes
from `connectors._limits`, not from its connector module), no HTTP stack (scrubbing secrets out
of text does not need `requests`), no web framework and no migration tool on a database that is
up to date. (Start-up time itself is measured by `bench/cli_startup.py`, not asserted.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from models import Post
from monitor.fakes import FakePlatforms
from tests.connectors.conftest import monitor_on

ROOT = Path(__file__).resolve().parents[2]
NEVER = ("numpy", "torch", "transformers", "fastapi", "uvicorn", "tweepy", "praw", "prawcore", "facebook",
         "google.auth", "alembic", "requests", "urllib3")
NOT_FOR_HELP = NEVER + ("sqlalchemy", "sqlmodel", "pydantic", "models", "monitor.service")

PROBE = """
import json, sys
{before}
loaded = [name for name in {names!r} if name in sys.modules]
print(json.dumps(loaded))
"""


def loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    script = PROBE.format(before=code, names=names)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "MONITOR_SETTINGS": "/dev/null", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_and_help_load_no_database_layer_client_library_or_model_runtime():
    assert loaded_after("import monitor.cli", NOT_FOR_HELP) == []
    help_run = ("from typer.testing import CliRunner\nfrom monitor.cli import app\n"
                "assert CliRunner().invoke(app, ['--help']).exit_code == 0")
    assert loaded_after(help_run, NOT_FOR_HELP) == []


def test_queue_show_approve_load_only_what_they_use(make_settings, tmp_path):
    with FakePlatforms.start(page_size=10) as fake:
        fake.add_post("facebook", "Demo Shop, where is my refund?", kind="comment", author="anna", minutes_ago=5)
        monitor = monitor_on(fake.base_url, make_settings)
        try:
            monitor.poll("demo-facebook")
            with monitor.db.session() as session:
                post_id = session.exec(select(Post.id)).one()
        finally:
            monitor.close()
    settings = tmp_path / "cli.toml"
    settings.write_text(f'[app]\nuser = "anna"\ndatabase_url = "{monitor.settings.app.database_url}"\n', encoding="utf-8")
    for args, allowed in ((["queue"], ()), (["show", str(post_id)], ()),
                          (["approve", str(post_id), "--text", "Thank you, we are checking your refund."], ("numpy",))):
        run = ("from typer.testing import CliRunner\nfrom monitor.cli import app\n"
               f"result = CliRunner().invoke(app, {['--settings', str(settings), *args]!r})\n"
               "assert result.exit_code == 0, result.output")
        assert loaded_after(run, tuple(n for n in NEVER if n not in allowed)) == [], args


def test_every_platform_reply_limit_is_known_without_its_connector_module():
    from connectors import registry
    from connectors._limits import REPLY_LIMITS, reply_limit

    classes = registry()
    assert set(REPLY_LIMITS) == set(classes)
    assert {name: reply_limit(name) for name in classes} == {name: cls.max_reply_length for name, cls in classes.items()}
    assert reply_limit("no-such-platform") is None
