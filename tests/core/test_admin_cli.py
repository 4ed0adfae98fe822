"""`monitor backup`, `restore` and `forget` on the command line: messages and exit codes."""
from __future__ import annotations

from typer.testing import CliRunner

from monitor.cli import app


def run(tmp_path, sqlite_url, *args: str):
    settings = tmp_path / "settings.toml"
    settings.write_text('[app]\nuser = "dpo"\n', encoding="utf-8")
    env = {"MONITOR_SETTINGS": str(settings), "MONITOR_DATABASE_URL": sqlite_url}
    return CliRunner().invoke(app, list(args), env=env)


def test_backup_restore_and_forget_on_the_command_line(tmp_path, sqlite_url):
    target = tmp_path / "copy.db"
    result = run(tmp_path, sqlite_url, "backup", str(target))
    assert result.exit_code == 0 and "backup written" in result.output and target.is_file(), result.output
    again = run(tmp_path, sqlite_url, "backup", str(target))
    assert again.exit_code == 4 and "exists" in again.output                    # a conflict, not a traceback
    restored = run(tmp_path, sqlite_url, "restore", str(target), "--yes")
    assert restored.exit_code == 0 and "restored" in restored.output, restored.output
    missing = run(tmp_path, sqlite_url, "restore", str(tmp_path / "nope.db"), "--yes")
    assert missing.exit_code == 3 and "no backup at" in missing.output
    nobody = run(tmp_path, sqlite_url, "forget", "--author", "@nobody", "--platform", "x", "--yes")
    assert nobody.exit_code == 3 and "no stored post" in nobody.output and "Traceback" not in nobody.output
