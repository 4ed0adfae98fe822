"""`monitor users ...` and `monitor serve`, through `register(app)` on a Typer app like the main
one; and the password hashing and session key they rely on."""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import typer
from argon2 import Type, extract_parameters
from typer.testing import CliRunner

from monitor import cli, users
from monitor.settings import SecretStore, SettingsError
from monitor.web.auth import key_file_path, session_key
from monitor.web.cli import register


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def command_line() -> typer.Typer:
    """A `monitor` with only the global --settings option and what `register` adds."""
    app = typer.Typer()

    @app.callback()
    def main(settings: str = typer.Option(None, "--settings"), as_user: str = typer.Option(None, "--as")) -> None:
        cli.state.settings_path, cli.state.actor, cli.state.demo = settings, as_user, False

    register(app)
    return app


@pytest.fixture
def run(tmp_path, database_url):
    settings = tmp_path / "settings.toml"
    settings.write_text("[app]\nuser = \"ops\"\n", encoding="utf-8")
    runner = CliRunner()
    app = command_line()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, ["--settings", str(settings), *args], input=input,
                             env={"MONITOR_DATABASE_URL": database_url})
    return invoke


def listed(run) -> dict[str, dict]:
    result = run("users", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["username"]: row for row in json.loads(result.output)}


def test_users_add_list_disable(run, monkeypatch):
    assert run("users", "add", "anna", "--role", "approver", "--password-stdin",
               input="a long enough secret\n").exit_code == 0
    result = run("users", "add", "olek", input="another secret!\nanother secret!\n")
    assert result.exit_code == 0 and "added olek (agent)" in result.output
    people = listed(run)
    assert people["anna"]["role"] == "approver" and people["olek"]["role"] == "agent"
    assert all(row["active"] for row in people.values())

    result = run("users", "add", "anna", "--password-stdin", input="a long enough secret\n")
    assert result.exit_code == 4 and "exists already" in result.output
    result = run("users", "add", "ewa", "--role", "boss", "--password-stdin", input="a long enough secret\n")
    assert result.exit_code == 2 and "unknown role" in result.output
    result = run("users", "add", "ewa", "--password-stdin", input="short\n")
    assert result.exit_code == 4 and "too short" in result.output
    result = run("users", "add", "ewa", input="first secret!!\nsecond secret!\n")
    assert result.exit_code == 2 and "differ" in result.output
    assert "ewa" not in listed(run)

    assert run("users", "disable", "olek").exit_code == 0
    assert listed(run)["olek"]["active"] is False
    assert run("users", "disable", "nobody").exit_code == 3
    assert run("users", "enable", "olek").exit_code == 0 and listed(run)["olek"]["active"] is True


def test_the_audit_log_records_who_managed_users(run, database_url):
    from sqlmodel import Session, create_engine, select
    from models import AuditEvent
    run("users", "add", "anna", "--password-stdin", input="a long enough secret\n")
    run("--as", "root", "users", "disable", "anna")
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = [(e.actor, e.action, e.details.get("username")) for e in session.exec(select(AuditEvent))]
    engine.dispose()
    assert rows == [("ops", "user.add", "anna"), ("root", "user.disable", "anna")]


def test_passwords_are_stored_as_argon2id_with_default_cost(monkeypatch):
    monkeypatch.undo()   # the suite's quick hashing off: this checks what production stores
    stored = users.hash_password("a long enough secret")
    parameters = extract_parameters(stored)
    assert parameters.type == Type.ID and parameters.memory_cost >= 19_456 and parameters.time_cost >= 2
    assert "a long enough secret" not in stored


def test_session_key_is_generated_once_beside_the_database_and_kept_private(make_settings, tmp_path):
    settings = make_settings("")
    path = key_file_path(settings)
    assert path == tmp_path / "monitor.db.session-key"
    first = session_key(settings, SecretStore(settings, {}))
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_key(settings, SecretStore(settings, {})) == first and len(first) >= 32
    assert first not in (tmp_path / "settings.toml").read_text()


def test_session_key_from_the_secret_store_wins_and_must_be_long(make_settings, tmp_path):
    settings = make_settings("")
    strong = "k" * 40
    assert session_key(settings, SecretStore(settings, {"MONITOR_SECRET_WEB_SECRET_KEY": strong})) == strong
    assert not key_file_path(settings).exists()
    with pytest.raises(SettingsError, match="web.secret_key.*too short"):
        session_key(settings, SecretStore(settings, {"MONITOR_SECRET_WEB_SECRET_KEY": "short"}))


def test_a_session_survives_a_restart_of_the_app(client_for, monitor):
    from fastapi.testclient import TestClient
    from monitor.web.app import create_app
    cookie = client_for("anna").cookies.get("monitor_session")
    restarted = TestClient(create_app(monitor))
    assert restarted.get("/queue", headers={"Cookie": f"monitor_session={cookie}"}).status_code == 200


def test_serve_starts_the_app_on_the_configured_port(tmp_path, database_url):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = tmp_path / "settings.toml"
    settings.write_text(f"[web]\nhost = \"127.0.0.1\"\nport = {port}\n", encoding="utf-8")
    script = ("import sys, typer; from monitor.web.cli import register; app = typer.Typer(); "
              "app.callback()(lambda: None); register(app); app(sys.argv[1:])")
    env = {**os.environ, "MONITOR_SETTINGS": str(settings), "MONITOR_DATABASE_URL": database_url}
    server = subprocess.Popen([sys.executable, "-c", script, "serve"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, body = time.monotonic() + 30, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                    body = answer.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert body == "ok", server.stdout.read() if server.poll() is not None else "no answer in 30 s"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as answer:
            assert "Sign in" in answer.read().decode()
    finally:
        server.terminate()
        output = server.communicate(timeout=15)[0]
    assert "no users yet" in output and f"serving on http://127.0.0.1:{port}/" in output
    assert Path(tmp_path / "monitor.db.session-key").exists()
