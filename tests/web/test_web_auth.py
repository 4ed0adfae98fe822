"""Sign-in, sessions, CSRF, admin-only pages and escaping of untrusted text (SQLite: none of
this depends on the database engine)."""
from __future__ import annotations

import re

import pytest

from monitor.web.app import CONTENT_SECURITY_POLICY
from web_helpers import PASSWORD, csrf_of, decisions_of, draft_text, form_post, open_post, post_of, sign_in


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_pages_need_sign_in(client_for):
    client = client_for()
    response = client.get("/queue?status=all", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fqueue%3Fstatus%3Dall"
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_wrong_password_fails(client_for):
    client = client_for()
    assert sign_in(client, "anna", "wrong password!").status_code == 401
    assert sign_in(client, "nobody", PASSWORD).status_code == 401
    response = sign_in(client, "anna")
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = response.headers["set-cookie"].lower()
    assert "monitor_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # [web] secure_cookies is off in these settings
    assert "anna" in client.get("/queue").text
    # A tampered cookie is no session at all.
    value = client.cookies.get("monitor_session")
    tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    assert client_for().get("/queue", headers={"Cookie": f"monitor_session={value}"}).status_code == 200
    assert client_for().get("/queue", headers={"Cookie": f"monitor_session={tampered}"},
                            follow_redirects=False).status_code == 303


def test_secure_cookies_setting_marks_the_cookie_secure(make_settings, monitor):
    from monitor.web.app import create_app
    from fastapi.testclient import TestClient
    monitor.settings.web.secure_cookies = True
    client = TestClient(create_app(monitor), base_url="https://testserver")
    response = sign_in(client, "anna")
    assert response.status_code == 303
    assert "; secure" in response.headers["set-cookie"].lower()


def test_sign_out_ends_the_session(client_for):
    client = client_for("anna")
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_out_at_once(client_for, monitor):
    from monitor.users import set_active
    client = client_for("bob")
    assert client.get("/queue").status_code == 200
    with monitor.db.session() as session:
        set_active(session, "bob", False, actor="root")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert sign_in(client_for(), "bob").status_code == 401


def test_after_sign_in_only_local_redirects(client_for):
    client = client_for()
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "anna", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/queue"


def test_repeated_wrong_passwords_are_throttled(client_for):
    client = client_for()
    for _ in range(3):                      # monitor.web.auth.FREE_FAILURES, then a growing wait
        assert sign_in(client, "root", "not the password").status_code == 401
    assert sign_in(client, "root", "not the password").status_code == 401
    assert sign_in(client, "root").status_code == 429


def test_posts_without_the_csrf_token_are_refused(client_for, monitor):
    post_id = monitor.seeded["late"]
    client = client_for("anna")
    open_post(client, post_id)
    text = draft_text(monitor, post_id)
    for data in ({"text": text}, {"text": text, "csrf_token": "forged"}):
        response = client.post(f"/posts/{post_id}/approve", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert client.post(f"/posts/{post_id}/reject", data={"reason": "x"}).status_code == 403
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert post_of(monitor, post_id).status == "open"
    assert decisions_of(monitor, post_id) == []
    # a token from another session is no good either
    other = csrf_of(client_for("bob").get("/queue").text)
    assert client.post(f"/posts/{post_id}/approve", data={"text": text, "csrf_token": other}).status_code == 403
    # and the sign-in form has its own token
    fresh = client_for()
    fresh.get("/login")
    assert fresh.post("/login", data={"username": "anna", "password": PASSWORD}).status_code == 403


def test_the_users_and_settings_pages_are_for_admins(client_for):
    approver = client_for("anna")
    assert approver.get("/users").status_code == 403
    assert approver.get("/settings").status_code == 403
    admin = client_for("root")
    page = admin.get("/users").text
    assert all(name in page for name in ("anna", "bob", "olek", "root"))
    assert "approver" in page and "agent" in page
    assert admin.get("/settings").status_code == 200


def test_post_text_and_author_are_escaped_and_the_policy_forbids_inline_scripts(client_for, monitor):
    post_id = monitor.seeded["xss"]
    client = client_for("anna")
    response = client.get(f"/queue?post={post_id}")
    page = response.text
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    assert "&lt;b&gt;hacker&lt;/b&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>hacker" not in page
    # every script the page loads is our own file; no inline script, no inline handler
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/app.js" defer>']
    assert not re.search(r"\son[a-z]+=", page.replace("onerror=&#34;", ""))
    policy = response.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    # the same text on the audit log and the dashboard stays text
    form_post(client, post_id, "reject", reason="<script>alert(1)</script>")
    audit = client.get(f"/audit?post_id={post_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in audit and "<script>alert(1)" not in audit


def test_static_files_and_health(client_for):
    client = client_for()
    assert client.get("/healthz").text == "ok"
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "keydown" in script.text
    assert client.get("/static/app.css").status_code == 200
