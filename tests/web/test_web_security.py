"""The web app's security review (issue 12): sessions that end, throttling that slows guessers
without locking out the real person, four-eyes approval, clean 400s for crafted input, size
limits, views that never lock, isolated names, masked secrets, private database files, HSTS and
the warning when serving beyond loopback. Each test failed before its fix (SQLite: none of this
depends on the database engine)."""
from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from models import OutboxReply, WebSession, utcnow
from monitor.web.app import CONTENT_SECURITY_POLICY, create_app
from monitor.web.auth import NAME_DELAY_CAP
from web_helpers import (csrf_of, decisions_of, events, form_post, open_post, post_of, sign_in)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def cookie_of(client: TestClient) -> str:
    return client.cookies.get("monitor_session")


def with_cookie(client_for, value: str) -> TestClient:
    client = client_for()
    client.cookies.set("monitor_session", value)
    return client


# ---- sessions that end --------------------------------------------------------------------------
def test_an_old_cookie_is_worthless_after_sign_out(client_for):
    client = client_for("anna")
    copied = cookie_of(client)
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    replay = with_cookie(client_for, copied)
    assert replay.get("/queue", follow_redirects=False).status_code == 303


def test_enabling_a_user_again_does_not_revive_their_old_sessions(client_for, monitor):
    from monitor.users import set_active
    client = client_for("bob")
    copied = cookie_of(client)
    with monitor.db.session() as session:
        set_active(session, "bob", False, actor="root")
    with monitor.db.session() as session:
        set_active(session, "bob", True, actor="root")
    assert with_cookie(client_for, copied).get("/queue", follow_redirects=False).status_code == 303
    assert sign_in(client_for(), "bob").status_code == 303      # bob signs in afresh


def test_a_password_change_ends_every_session(client_for, monitor):
    from monitor.users import set_password
    client = client_for("anna")
    with monitor.db.session() as session:
        set_password(session, "anna", "a brand new passphrase", actor="root")
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_a_session_ends_at_its_absolute_lifetime_however_often_it_is_used(client_for, monitor):
    client = client_for("anna")
    assert client.get("/queue").status_code == 200
    with monitor.db.session() as session:
        [row] = session.exec(select(WebSession)).all()
        assert row.expires_at - row.created_at == timedelta(hours=monitor.settings.web.session_hours)
        row.expires_at = utcnow() - timedelta(seconds=1)     # the lifetime has passed
        session.add(row)
    assert client.get("/queue", follow_redirects=False).status_code == 303
    with monitor.db.session() as session:
        assert session.exec(select(WebSession)).one().ended_why == "expired"


def test_each_sign_in_makes_a_new_session_id(client_for, monitor):
    client = client_for("anna")
    first = cookie_of(client)
    assert sign_in(client, "anna").status_code == 303
    assert cookie_of(client) != first
    with monitor.db.session() as session:
        assert len(session.exec(select(WebSession)).all()) == 2


# ---- throttling -----------------------------------------------------------------------------------
def from_address(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_guessing_a_name_slows_the_guesser_but_does_not_lock_out_its_owner(app):
    clock = [utcnow()]
    app.state.throttle.clock = lambda: clock[0]
    guesser = from_address(app, "203.0.113.9")
    codes = [sign_in(guesser, "anna", f"guess number {n}").status_code for n in range(12)]
    assert codes[:3] == [401, 401, 401] and 429 in codes
    owner = from_address(app, "198.51.100.4")
    waited = sign_in(owner, "anna")
    assert waited.status_code == 429 and "try again in" in waited.text
    clock[0] += timedelta(seconds=NAME_DELAY_CAP + 1)           # the name's wait is capped: never a lock-out
    assert sign_in(owner, "anna").status_code == 303
    assert sign_in(guesser, "bob", "another guess").status_code == 401
    assert sign_in(guesser, "bob").status_code == 429           # the guessing address keeps its count


def test_many_names_from_one_address_are_slowed(app):
    client = from_address(app, "203.0.113.50")
    codes = [sign_in(client, f"name{n}", "some guess here").status_code for n in range(40)]
    assert codes[:3] == [401, 401, 401]
    assert codes.count(429) >= 30
    assert sign_in(from_address(app, "198.51.100.7"), "name41", "some guess here").status_code == 401


def test_the_throttle_survives_a_restart(monitor, app):
    client = from_address(app, "203.0.113.77")
    for n in range(4):
        sign_in(client, "root", f"wrong {n}")
    restarted = create_app(monitor)
    assert sign_in(from_address(restarted, "203.0.113.77"), "root").status_code == 429


# ---- four eyes ------------------------------------------------------------------------------------
PERSONAL = "Dear customer, call me at +48 601 234 567 or write to jan.kowalski@example.com and we will fix it."


def test_the_writer_of_a_text_cannot_override_a_personal_data_finding_alone(client_for, monitor):
    post_id = monitor.seeded["damaged"]
    anna = client_for("anna")
    refused = form_post(anna, post_id, "approve", text=PERSONAL, override_reason="the customer asked for it")
    assert refused.status_code == 409 and "second approver" in refused.text
    assert post_of(monitor, post_id).status == "open" and decisions_of(monitor, post_id) == []
    [requested] = events(monitor, "decision.second_approver_requested")
    assert requested.actor == "anna" and "personal_data" in requested.details["findings"]
    draft = monitor.show(post_id).draft
    assert draft["text"] == PERSONAL and draft["author"] == "anna"
    # anna cannot confirm her own text by naming the saved draft either
    again = form_post(anna, post_id, "approve", text=PERSONAL, override_reason="still me")
    assert again.status_code == 409 and decisions_of(monitor, post_id) == []
    # a second approver reads it and confirms the override: audited with both names
    bob = client_for("bob")
    assert form_post(bob, post_id, "approve", text=PERSONAL, override_reason="checked: the customer's own number",
                     ).status_code == 303
    with monitor.db.session() as session:
        assert session.exec(select(OutboxReply).where(OutboxReply.post_id == post_id)).one().text == PERSONAL
    [approved] = events(monitor, "decision.approve")
    assert approved.actor == "bob" and approved.details["four_eyes"]["author"] == "anna"


def test_four_eyes_in_the_cli(tmp_path, monkeypatch, monitor):
    from typer.testing import CliRunner
    from monitor.cli import app as cli_app
    settings = tmp_path / "cli.toml"
    settings.write_text(f'[app]\ndatabase_url = "{monitor.settings.app.database_url}"\n', encoding="utf-8")
    monkeypatch.setenv("MONITOR_SETTINGS", str(settings))
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    post_id = monitor.seeded["damaged"]
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["--as", "anna", "approve", str(post_id), "--text", PERSONAL, "--override", "asked"])
    assert refused.exit_code == 4 and "second approver" in refused.output
    draft_id = monitor.show(post_id).draft["id"]
    done = runner.invoke(cli_app, ["--as", "bob", "approve", str(post_id), "--draft", str(draft_id), "--override", "ok"])
    assert done.exit_code == 0, done.output
    assert post_of(monitor, post_id).status == "approved"


# ---- crafted input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method,url", [
    ("get", "/queue?post=²"), ("get", "/queue?post=99999999999999999999999"), ("get", "/queue?after=-1"),
    ("get", "/audit?page_number=²"), ("get", "/audit?before=99999999999999999999"),
    ("get", "/decisions.csv?since=0001-01-01"), ("get", "/decisions.csv?until=9999-12-31"),
    ("get", "/outbox?after=²"),
    ("post", "/posts/99999999999999999999/approve"), ("post", "/outbox/99999999999999999999999/retry"),
    ("post", "/posts/0/reject"),
])
def test_crafted_numbers_get_a_400_page_with_the_security_headers(client_for, method, url):
    client = client_for("anna")
    token = csrf_of(client.get("/queue").text)
    response = client.get(url) if method == "get" else client.post(url, data={"csrf_token": token})
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "Traceback" not in response.text


def test_unreadable_audit_filters_are_ignored_and_said_so(client_for):
    page = client_for("anna").get("/audit?post_id=²&date_from=0001-01-01").text
    assert "Ignored what could not be read" in page


def test_text_fields_are_limited_on_the_server(client_for, monitor):
    post_id = monitor.seeded["legal"]
    client = client_for("anna")
    response = form_post(client, post_id, "escalate", to="legal", reason="x" * 200_000)
    assert response.status_code == 400 and "at most 2000" in response.text
    assert post_of(monitor, post_id).status == "open" and events(monitor, "decision.escalate") == []


def test_a_large_body_is_refused_before_it_is_read(client_for):
    response = client_for().post("/login", content=b"username=" + b"a" * (2 * 1024 * 1024),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_looking_at_a_post_never_locks_it_claiming_does(client_for, monitor):
    post_id = monitor.seeded["late"]
    anna = client_for("anna")
    open_post(anna, post_id)
    assert post_of(monitor, post_id).claimed_by is None
    assert form_post(anna, post_id, "assign").status_code == 303
    assert post_of(monitor, post_id).claimed_by == "anna"


def test_untrusted_names_are_isolated(client_for, monitor):
    post_id = monitor.seeded["late"]
    with monitor.db.session() as session:
        post = session.get(type(post_of(monitor, post_id)), post_id)
        post.author_handle = "evil\u202egnp.exe"
        session.add(post)
    page = client_for("anna").get(f"/queue?post={post_id}").text
    assert "<bdi>evil\u202egnp.exe</bdi>" in page
    assert "evil\u202egnp.exe" not in page.replace("<bdi>evil\u202egnp.exe</bdi>", "")


def test_the_settings_page_masks_the_database_password(client_for, monitor):
    monitor.settings.app.database_url = "postgresql://monitor:s3cret-pass@db.internal/monitor"
    page = client_for("root").get("/settings").text
    assert "s3cret-pass" not in page and "db.internal" in page


def test_hsts_only_when_served_over_https(monitor):
    plain = TestClient(create_app(monitor)).get("/login")
    assert "strict-transport-security" not in plain.headers
    monitor.settings.web.secure_cookies = True
    secure = TestClient(create_app(monitor), base_url="https://testserver").get("/login")
    assert secure.headers["strict-transport-security"].startswith("max-age=")


def test_the_sqlite_file_and_its_wal_are_private(tmp_path):
    from monitor.db import Database
    old = os.umask(0o022)
    try:
        db = Database(f"sqlite:///{tmp_path / 'private.db'}")
        db.migrate()
        connection = db.engine.raw_connection()
        connection.execute("CREATE TABLE IF NOT EXISTS probe (x)")
        connection.commit()
        files = [tmp_path / "private.db", tmp_path / "private.db-wal"]
        assert all(path.exists() for path in files)
        assert [stat.S_IMODE(path.stat().st_mode) for path in files] == [0o600, 0o600]
        connection.close()
        db.dispose()
    finally:
        os.umask(old)


def test_serving_beyond_loopback_without_secure_cookies_warns_loudly(tmp_path, monkeypatch, monitor):
    import uvicorn
    from typer.testing import CliRunner
    from monitor.cli import app as cli_app
    settings = tmp_path / "serve.toml"
    settings.write_text(f'[app]\ndatabase_url = "{monitor.settings.app.database_url}"\n', encoding="utf-8")
    monkeypatch.setenv("MONITOR_SETTINGS", str(settings))
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    runner = CliRunner()
    loud = runner.invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert loud.exit_code == 0 and "WARNING" in loud.output and "secure_cookies" in loud.output
    quiet = runner.invoke(cli_app, ["serve", "--host", "127.0.0.1"])
    assert quiet.exit_code == 0 and "WARNING" not in quiet.output
