"""What the web tests share: seeded posts and people, and small helpers (a uniquely named
module: several test folders have a conftest.py). Posts reach the database the way they do in
production: put on the fake Facebook page and collected by the real Facebook connector; replies
go back the same way."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import col, select

from models import Assessment, AuditEvent, Decision, Draft, Post
from monitor.assess import flag_codes
from monitor.fakes import FakePlatforms
from monitor.fakes.demo import demo_secret_env
from monitor.service import Monitor
from monitor.users import add_user

HERE = Path(__file__).parent
SEED = HERE / "seed_posts.toml"
SOURCE = "shop-facebook"
PASSWORD = "correct horse battery"
PEOPLE = {"anna": "approver", "bob": "approver", "olek": "agent", "root": "admin"}


def settings_toml(fake: FakePlatforms) -> str:
    """One Facebook page on the fake platforms. The SLA day spans the whole day, so a post older
    than an hour is overdue whenever the tests run."""
    return f"""
[app]
timezone = "Europe/Warsaw"

[sla]
first_answer_minutes = 60
business_day_start = "00:00"
business_day_end = "23:59"

[web]
lock_minutes = 10

[[sources]]
name = "{SOURCE}"
platform = "facebook"
page_id = "{fake.brand.facebook_page_id}"
base_url = "{fake.base_url}"
"""


def secret_env() -> dict[str, str]:
    return demo_secret_env([{"name": SOURCE, "platform": "facebook"}])


def seed_entries() -> list[dict[str, Any]]:
    return tomllib.loads(SEED.read_text(encoding="utf-8"))["posts"]


def put_on_platform(fake: FakePlatforms) -> None:
    """The seed posts as comments (and replies) on the brand's fake Facebook page."""
    for entry in seed_entries():
        parent = fake.seeded[entry["reply_to"]][1] if entry.get("reply_to") else None
        fake.add_post("facebook", entry["text"], kind="reply" if parent else "comment", parent=parent,
                      author=entry["author"], minutes_ago=entry["minutes_ago"], reach=entry["reach"],
                      likes=entry.get("likes", 0), shares=entry.get("shares", 0), demo_id=entry["key"])


def seed_posts(monitor: Monitor, fake: FakePlatforms) -> dict[str, int]:
    """Collect the seed posts with the real connector, then store each one's assessment and a
    draft checked by the real safety checker; returns key -> post id."""
    put_on_platform(fake)
    [result] = monitor.poll(SOURCE)
    assert result.ok and result.new == len(seed_entries()), vars(result)
    ids: dict[str, int] = {}
    with monitor.db.session() as session:
        for entry in seed_entries():
            external_id = fake.seeded[entry["key"]][1]
            post = session.exec(select(Post).where(Post.platform == "facebook",
                                                   Post.external_id == external_id)).one()
            post.language, post.severity, post.flagged = entry["language"], entry["severity"], entry["flagged"]
            post.analysed_hash = post.content_hash
            post.flag_codes = flag_codes(entry["flags"])   # what monitor/assess.py copies from an assessment
            assessment = Assessment(post_id=post.id, model_version="seed", language=entry["language"],
                                    sentiment="negative" if entry["flagged"] else "neutral",
                                    flags=entry["flags"], severity=entry["severity"], flagged=entry["flagged"],
                                    summary=entry["summary"])
            session.add_all([post, assessment])
            session.flush()
            findings = [f.as_dict() for f in monitor.safety.check(entry["draft"], monitor.safety_context(post))]
            session.add(Draft(post_id=post.id, assessment_id=assessment.id, text=entry["draft"],
                              language=entry["language"], topic=entry["topic"], strategy=entry["strategy"],
                              escalate_to=entry.get("escalate_to"), findings=findings, backend="seed"))
            ids[entry["key"]] = post.id
    return ids


def seed_people(monitor: Monitor) -> None:
    with monitor.db.session() as session:
        for name, role in PEOPLE.items():
            add_user(session, name, PASSWORD, role, actor="test-setup")


def build_monitor(settings) -> Monitor:
    monitor = Monitor(settings, environ=secret_env())
    monitor.init()
    return monitor


def posted(fake: FakePlatforms) -> list[tuple[str, str]]:
    """(id of the item answered, reply text) for each reply the fake Facebook page received."""
    return [(reply["in_reply_to"], reply["text"]) for reply in fake.replies("facebook")]


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token,
                                       "next": "/queue"}, follow_redirects=False)


def post_of(monitor, post_id: int) -> Post:
    with monitor.db.session() as session:
        return session.get(Post, post_id)


def decisions_of(monitor, post_id: int) -> list[Decision]:
    with monitor.db.session() as session:
        return list(session.exec(select(Decision).where(Decision.post_id == post_id)))


def events(monitor, action: str) -> list[AuditEvent]:
    with monitor.db.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def open_post(client, post_id: int) -> str:
    response = client.get(f"/queue?post={post_id}")
    assert response.status_code == 200
    return response.text


def form_post(client, post_id: int, action: str, **fields):
    token = csrf_of(open_post(client, post_id))
    return client.post(f"/posts/{post_id}/{action}", data={"csrf_token": token, **fields}, follow_redirects=False)


def draft_text(monitor, post_id: int) -> str:
    return monitor.show(post_id).draft["text"]
