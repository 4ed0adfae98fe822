"""The approval loop in a real browser: Debian's Chromium driven by Playwright, against the real
app served by uvicorn on 127.0.0.1, with posts collected from the fake Facebook page by the real
connector and replies posted back to it.

Skips (with the reason) when Playwright or /usr/bin/chromium is missing, unless
MONITOR_REQUIRE_BROWSER=1, where it fails instead. Screenshots go to tests/artifacts/.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import uvicorn
from sqlmodel import select

from models import Decision, Post
from monitor.fakes import FakePlatforms
from monitor.service import Monitor
from monitor.settings import load_settings
from monitor.web.app import create_app
from web_helpers import PASSWORD, build_monitor, posted, seed_people, seed_posts, settings_toml

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
REQUIRE_BROWSER = os.environ.get("MONITOR_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WAIT_MS = 10_000


def browser_problem() -> str | None:
    import importlib.util
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (it is in the test extras: pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is missing at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = browser_problem()
    if problem:
        if REQUIRE_BROWSER:
            pytest.fail(f"{problem}; MONITOR_REQUIRE_BROWSER=1 makes the browser tests mandatory")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Live:
    url: str
    monitor: Monitor
    fake: FakePlatforms
    seeded: dict[str, int]

    def post(self, key: str) -> Post:
        with self.monitor.db.session() as session:
            return session.get(Post, self.seeded[key])

    def decisions(self, key: str) -> list[Decision]:
        with self.monitor.db.session() as session:
            return list(session.exec(select(Decision).where(Decision.post_id == self.seeded[key])))


@pytest.fixture(scope="module")
def live(browser, tmp_path_factory) -> Iterator[Live]:
    """The app on a free loopback port, in a thread of this process (so tests can look at the
    database and run the poster directly)."""
    fake = FakePlatforms.start()
    folder = tmp_path_factory.mktemp("web-browser")
    settings_file = folder / "settings.toml"
    settings_file.write_text(settings_toml(fake), encoding="utf-8")
    settings = load_settings(settings_file, environ={"MONITOR_DATABASE_URL": f"sqlite:///{folder / 'monitor.db'}"})
    monitor = build_monitor(settings)
    seeded = seed_posts(monitor, fake)
    seed_people(monitor)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(monitor), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="web-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.02)
    host, port = listener.getsockname()[:2]
    yield Live(f"http://{host}:{port}", monitor, fake, seeded)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    monitor.close()
    fake.stop()


@pytest.fixture
def person(browser, live):
    """person("anna") -> a signed-in page in a browser context of its own; signed out after the
    test, which releases the post that person holds (opening a post holds it for colleagues)."""
    contexts = []

    def open_as(name: str, **options: Any):
        context = browser.new_context(viewport=options.pop("viewport", {"width": 1366, "height": 900}), **options)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []      # a Content-Security-Policy violation shows up here
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.goto(f"{live.url}/queue")
        assert "/login" in page.url
        page.fill("#username", name)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live.url}/queue**")
        return page

    yield open_as
    for context in contexts:
        for page in context.pages:      # signing out releases the post each one holds
            if page.locator("form.who button").count():
                page.click("form.who button")
                page.wait_for_url("**/login")
        context.close()


def selected(page) -> int:
    return int(page.get_attribute("#detail", "data-post-id"))


def open_post(page, live: Live, key: str) -> None:
    page.goto(f"{live.url}/queue?post={live.seeded[key]}")
    assert selected(page) == live.seeded[key]


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_sign_in_and_walk_the_queue_with_the_keyboard(person, live):
    page = person("anna")
    ids = [int(v) for v in page.eval_on_selector_all("#queue-items a[data-post]", "els => els.map(e => e.dataset.post)")]
    assert len(ids) >= 3
    start = selected(page)
    page.keyboard.press("j")
    page.wait_for_url(f"**post={ids[ids.index(start) + 1]}")
    assert selected(page) == ids[ids.index(start) + 1]
    page.keyboard.press("k")
    page.wait_for_url(f"**post={start}")
    assert selected(page) == start
    page.keyboard.press("?")
    assert page.is_visible("#keys-help")
    page.keyboard.press("?")
    screenshot(page, "queue.png")
    phone = person("bob", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    assert phone.is_visible("#queue-items") and not phone.is_visible("#reply-text")   # the list first
    phone.tap("#queue-items a[data-post]")
    phone.wait_for_selector("#reply-text")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1   # no sideways scrolling
    screenshot(phone, "queue-phone.png")
    assert page.console_errors == [] and phone.console_errors == []


def test_edit_and_approve_a_draft_then_see_it_posted(person, live):
    page = person("anna")
    open_post(page, live, "damaged")
    draft = page.input_value("#reply-text")
    page.keyboard.press("e")
    page.keyboard.type(" Thank you for your patience.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".flash-ok")
    assert f"Approved the reply to post {live.seeded['damaged']}" in page.inner_text(".flash-ok")
    final = draft + " Thank you for your patience."
    [decision] = live.decisions("damaged")
    assert decision.action == "approve" and decision.actor == "anna" and decision.final_text == final

    report = live.monitor.post_approved()
    assert report.sent and not report.failed
    assert (live.fake.seeded["damaged"][1], final) in posted(live.fake)
    page.goto(f"{live.url}/queue?status=posted&post={live.seeded['damaged']}")
    assert page.inner_text("#outbox-state") == "sent"
    reply_ids = {r["id"] for r in live.fake.replies("facebook")}
    assert page.inner_text("#reply-id") in reply_ids


def test_approve_as_drafted_with_a(person, live):
    page = person("anna")
    open_post(page, live, "question")
    draft = page.input_value("#reply-text")
    page.keyboard.press("a")
    page.wait_for_selector(".flash-ok")
    assert live.post("question").status == "approved"
    assert live.decisions("question")[0].final_text == draft


def test_reject_with_r(person, live):
    page = person("bob")
    open_post(page, live, "praise")
    page.keyboard.press("r")
    page.keyboard.type("thanked in a private message")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash-ok")
    assert live.post("praise").status == "rejected"
    assert live.decisions("praise")[0].reason == "thanked in a private message"


def test_escalate_with_x(person, live):
    page = person("anna")
    open_post(page, live, "legal")
    assert page.input_value("#escalate-to") == "legal"     # the drafter's suggestion is preselected
    page.keyboard.press("x")
    page.keyboard.type("threatens to sue")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash-ok")
    assert live.post("legal").status == "escalated"
    decision = live.decisions("legal")[0]
    assert (decision.action, decision.escalate_to, decision.reason) == ("escalate", "legal", "threatens to sue")


def test_a_colleagues_lock_is_shown_and_holds_the_decision(person, live):
    bob, anna = person("bob"), person("anna")
    open_post(bob, live, "late")
    bob.click("#assign-button")                 # looking never locks; taking the post does
    bob.wait_for_selector("#holding-note")
    open_post(anna, live, "late")
    assert "bob is on it" in anna.inner_text("#lock-banner")
    anna.keyboard.press("a")
    anna.wait_for_selector("#action-error")
    assert "bob is working on post" in anna.inner_text("#action-error")
    assert live.post("late").status == "open" and live.decisions("late") == []


def test_an_agent_cannot_approve(person, live):
    page = person("olek")
    open_post(page, live, "late_followup")
    assert page.locator("#approve-button").count() == 0
    page.keyboard.press("a")
    page.wait_for_selector("#key-status:has-text('approver role')")
    token = page.get_attribute("#approve-form input[name=csrf_token]", "value")
    response = page.request.post(f"{live.url}/posts/{live.seeded['late_followup']}/approve",
                                 form={"csrf_token": token, "text": page.input_value("#reply-text")})
    assert response.status == 403
    assert "olek is agent" in response.text()
    assert live.post("late_followup").status == "open" and live.decisions("late_followup") == []


def test_a_post_with_a_script_is_shown_as_inert_text(person, live):
    page = person("anna")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_post(page, live, "xss")
    text = page.inner_text("#post-text")
    assert text.startswith("<script>alert('pwned')</script><img src=x onerror=")
    assert page.locator("#detail script, #detail img, #queue-items img").count() == 0
    assert page.inner_text(".post .author") == "<b>hacker</b>"
    page.wait_for_timeout(200)
    assert dialogs == []


def test_posts_without_the_csrf_token_are_refused(person, live):
    page = person("anna")
    open_post(page, live, "formula")
    response = page.request.post(f"{live.url}/posts/{live.seeded['formula']}/approve",
                                 form={"text": page.input_value("#reply-text")})
    assert response.status == 403
    # a form that lost its token (as a forged one would) is refused as well
    page.evaluate("document.querySelector('#approve-form input[name=csrf_token]').remove()")
    page.click("#approve-button")
    page.wait_for_selector("text=CSRF")
    assert "Not allowed" in page.inner_text("h1")
    assert live.post("formula").status == "open" and live.decisions("formula") == []


def test_dashboard_sources_and_audit_pages(person, live):
    page = person("anna")
    page.goto(f"{live.url}/dashboard")
    assert int(page.inner_text("#queue-size")) == len(live.monitor.queue())
    assert page.locator("svg[role=img]").count() == 2
    screenshot(page, "dashboard.png")
    page.goto(f"{live.url}/sources")
    assert "shop-facebook" in page.inner_text("#sources")
    page.goto(f"{live.url}/audit")
    page.select_option("select[name=actor]", "test-setup")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**actor=test-setup**")
    assert "user.add" in page.inner_text("#audit")
    assert page.console_errors == []
