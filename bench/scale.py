"""A million posts: how fast the queue, `show`, the dashboard and `stats` answer on a big database.

    nice -n 10 .venv/bin/python bench/scale.py --posts 1000000 --seed-only             # SQLite in /tmp
    .venv/bin/python bench/scale.py --posts 1000000 --reuse                           # time it
    nice -n 10 .venv/bin/python bench/scale.py --posts 1000000 --postgres --seed-only  # the machine's PostgreSQL
    .venv/bin/python bench/scale.py --posts 1000000 --postgres --reuse

Seeds N posts spread over a year (five channels, three languages, threads of up to eight posts)
with an assessment and a draft each, and for the answered ones a decision, an outbox reply and
audit events. Rows go in as bulk inserts of the models' own tables, in batches; nothing is
written outside the schema the migrations create. Then it times, `--repeat` times each:
the queue's first page (with its count) unfiltered and with filters, a page deep in the queue,
`show` of random posts, the dashboard and `stats`, and four web users loading the queue at once
from a real `monitor serve` process. Prints p50/p95 per measurement and the database size.
Targets at 1,000,000 posts: first page and show p95 <= 150 ms, deep page <= 300 ms,
dashboard and stats <= 500 ms, four web users <= 300 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import JSON, create_engine, func, insert, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from models.tables import answer_figures  # noqa: E402
from models import Assessment, AuditEvent, Decision, Draft, OutboxReply, Post, Source, User, utcnow  # noqa: E402
from monitor import reports, stats  # noqa: E402
from monitor.db import Database  # noqa: E402
from monitor.queue import QueueFilter, count_queue, list_queue, show_post  # noqa: E402

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PLATFORMS = ("x", "facebook", "instagram", "reddit", "google_reviews")
LANGUAGES = ("pl", "en", "ru")
FLAGS = ("legal_threat", "fraud", "safety", "abuse", "personal_data")
BATCH = 5000
PASSWORD = "bench password, long enough"


def seed(db: Database, posts: int, seed_value: int = 7) -> None:
    """Bulk-insert `posts` posts with their pipeline rows, `BATCH` posts per transaction."""
    rng = random.Random(seed_value)
    now = utcnow()
    year = timedelta(days=365).total_seconds()
    with db.session() as session:
        sources = []
        for platform in PLATFORMS:
            source = Source(name=f"bench-{platform}", platform=platform)
            session.add(source)
            sources.append(source)
        session.flush()
        source_ids = {s.platform: s.id for s in sources}
    ids = {"assessment": 0, "draft": 0, "decision": 0, "outbox": 0, "audit": 0}
    started = time.perf_counter()
    for first in range(1, posts + 1, BATCH):
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in ("post", "assessment", "draft", "decision", "outbox", "audit")}
        for post_id in range(first, min(first + BATCH, posts + 1)):
            # Ids grow with time, as collected posts do: the newest posts are the last ones.
            age = year * (1 - post_id / posts) + rng.random() * 600
            created = now - timedelta(seconds=age)
            platform = PLATFORMS[post_id % len(PLATFORMS)]
            severity = round(min(1.0, rng.betavariate(1.2, 4.0)), 4)
            flagged = severity >= 0.45
            codes = sorted(set(rng.sample(FLAGS, rng.randint(1, 2)))) if flagged else []
            due = created + timedelta(hours=2)
            fresh = age < 2 * 86400
            roll = rng.random()
            status = "open" if fresh or roll < 0.08 else "posted" if roll < 0.78 else "rejected" if roll < 0.9 \
                else "escalated" if roll < 0.95 else "approved"
            answered = None if status == "open" else created + timedelta(minutes=rng.expovariate(1 / 90))
            language = LANGUAGES[rng.randrange(3)]
            thread = f"t{post_id // 8}" if platform in ("facebook", "reddit", "instagram") else None
            rows["post"].append(dict(
                id=post_id, source_id=source_ids[platform], platform=platform, external_id=f"b{post_id}",
                kind="comment", author_handle=f"user{rng.randrange(posts // 3 + 1)}", author_reach=rng.randrange(50_000),
                text=f"bench post {post_id}: the parcel is late again and nobody answers", language=language,
                thread_id=thread, extra={}, created_at=created, collected_at=created, updated_at=created,
                content_hash=f"h{post_id}", analysed_hash=f"h{post_id}", status=status, flagged=flagged,
                flag_codes=" " + " ".join(codes) + " " if codes else "", severity=severity, due_at=due,
                answered_at=answered, **answer_figures(created, due, answered), likes=0, shares=0, replies=0))
            ids["assessment"] += 1
            rows["assessment"].append(dict(
                id=ids["assessment"], post_id=post_id, created_at=created, model_version="bench", language=language,
                sentiment="negative" if severity > 0.3 else "neutral", scores={"negative": severity},
                flags=[{"code": code, "reason": f"bench {code}", "evidence": [], "weight": 0.3} for code in codes],
                severity=severity, flagged=flagged, summary="late parcel" + (", " + ", ".join(codes) if codes else "")))
            ids["draft"] += 1
            rows["draft"].append(dict(
                id=ids["draft"], post_id=post_id, assessment_id=ids["assessment"], created_at=created,
                text="We are sorry for the wait. Please send us your order number in a private message.",
                language=language, topic="delivery", strategy="four_step", notes=[], findings=[], backend="bench"))
            if answered is None:
                continue
            ids["decision"] += 1
            action = {"posted": "approve", "approved": "approve", "rejected": "reject", "escalated": "escalate"}[status]
            actor = f"agent{post_id % 7}"
            rows["decision"].append(dict(
                id=ids["decision"], post_id=post_id, draft_id=ids["draft"], actor=actor, action=action,
                final_text=rows["draft"][-1]["text"] if action == "approve" else None,
                reason="not for us" if action == "reject" else None,
                escalate_to="legal" if action == "escalate" else None, findings=[], created_at=answered))
            ids["audit"] += 1
            rows["audit"].append(dict(id=ids["audit"], at=answered, actor=actor, action=f"decision.{action}",
                                      post_id=post_id, details={"decision_id": ids["decision"]}))
            if action == "approve":
                ids["outbox"] += 1
                sent = status == "posted"
                rows["outbox"].append(dict(
                    id=ids["outbox"], post_id=post_id, decision_id=ids["decision"], text=rows["draft"][-1]["text"],
                    state="sent" if sent else "pending", external_reply_id=f"r{post_id}" if sent else None,
                    attempts=int(sent), created_at=answered, updated_at=answered,
                    sent_at=answered + timedelta(minutes=1) if sent else None))
                if sent:
                    ids["audit"] += 1
                    rows["audit"].append(dict(id=ids["audit"], at=answered + timedelta(minutes=1), actor="daemon",
                                              action="outbox.sent", post_id=post_id, details={"reply": f"r{post_id}"}))
        tables = (("post", Post), ("assessment", Assessment), ("draft", Draft), ("decision", Decision),
                  ("outbox", OutboxReply), ("audit", AuditEvent))
        if db.is_postgres:
            copy_rows(db, [(model, rows[name]) for name, model in tables])
        else:
            with db.session() as session:
                for name, model in tables:
                    if rows[name]:
                        session.execute(insert(model), rows[name])
        done = min(first + BATCH - 1, posts)
        if done % 100_000 < BATCH or done == posts:
            rate = done / (time.perf_counter() - started)
            print(f"  seeded {done:,} posts ({rate:,.0f} posts/s with their rows)", flush=True)
    if db.is_postgres:  # the identity sequences must continue after the explicit ids
        with db.engine.begin() as connection:
            for table in ("post", "assessment", "draft", "decision", "outboxreply", "auditevent"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT coalesce(max(id), 1) FROM {table}))"))


def copy_rows(db: Database, batches: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """PostgreSQL: the same rows through COPY into the models' tables and columns, in one
    transaction (several times less client CPU than INSERTs on a shared machine)."""
    connection = db.engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            for model, rows in batches:
                if not rows:
                    continue
                table = model.__table__
                columns = [column.name for column in table.columns if column.name in rows[0]]
                json_columns = {column.name for column in table.columns if isinstance(column.type, JSON)}
                with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c]
                                        for c in columns])
        connection.commit()
    finally:
        connection.close()


def maintain(db: Database) -> None:
    """What a deployment's routine maintenance does (the daemon and `monitor init` on SQLite,
    autovacuum on PostgreSQL): fresh planner statistics and visibility map."""
    if db.is_postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def size_of(db: Database, sqlite_path: Path | None) -> str:
    if sqlite_path is not None:
        total = sum(p.stat().st_size for p in sqlite_path.parent.glob(sqlite_path.name + "*"))
        return f"{total / 2**20:,.0f} MiB"
    with db.engine.connect() as connection:
        total = connection.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar()
    return f"{(total or 0) / 2**20:,.0f} MiB"


def timed(label: str, repeat: int, action: Callable[[int], Any]) -> dict[str, float]:
    action(0)  # warm the caches once; what is timed is a warm server
    times = []
    for n in range(repeat):
        started = time.perf_counter()
        action(n)
        times.append((time.perf_counter() - started) * 1000)
    figures = percentiles(times)
    print(f"  {label:<44} p50 {figures['p50']:7.1f} ms   p95 {figures['p95']:7.1f} ms", flush=True)
    return figures


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]}


def measure(db: Database, repeat: int, timezone: str = "Europe/Warsaw") -> None:
    rng = random.Random(3)
    with db.session() as session:
        top = session.exec(select(func.max(Post.id))).one() or 1
        # A deep page: after an open post of median severity, hundreds of thousands of posts down.
        middle = session.exec(select(Post.id).where(Post.status == "open", Post.severity <= 0.2)
                              .order_by(Post.severity.desc()).limit(1)).first()
    queue_filters = {
        "queue first page (open) + count": QueueFilter(),
        "queue first page, channel filter + count": QueueFilter(platform="reddit"),
        "queue first page, language+flagged + count": QueueFilter(language="ru", flagged_only=True),
        "queue first page, every status + count": QueueFilter(status=None),
    }
    for label, filters in queue_filters.items():
        def page(_n: int, filters: QueueFilter = filters) -> None:
            with db.session() as session:
                list_queue(session, filters)
                count_queue(session, filters)
        timed(label, repeat, page)

    def deep(_n: int) -> None:
        with db.session() as session:
            list_queue(session, QueueFilter(after=middle))
    timed("queue deep page (keyset, after a mid post)", repeat, deep)

    def show(_n: int) -> None:
        with db.session() as session:
            show_post(session, rng.randint(1, top))
    timed("show (random post, thread, trail)", repeat, show)

    def dashboard(_n: int) -> None:
        with db.session() as session:
            reports.dashboard(session, utcnow(), timezone, 14)
    timed("dashboard (14 days)", max(5, repeat // 4), dashboard)

    def overall(_n: int) -> None:
        with db.session() as session:
            stats.compute(session, utcnow())
    timed("stats", max(5, repeat // 4), overall)


def web_users(url: str, folder: Path, users: int = 4, requests: int = 25) -> None:
    """`monitor serve` in its own process; `users` signed-in clients load /queue at once."""
    import httpx

    from monitor.users import hash_password
    db = Database(url)
    with db.session() as session:
        if session.exec(select(User).where(User.username == "bench")).first() is None:
            session.add(User(username="bench", password_hash=hash_password(PASSWORD), role="approver"))
    db.dispose()
    settings = folder / "settings.toml"
    settings.write_text('[app]\nlog_level = "WARNING"\n[web]\nport = 8765\n', encoding="utf-8")
    env = {**os.environ, "MONITOR_DATABASE_URL": url, "MONITOR_SETTINGS": str(settings),
           "MONITOR_SECRET_WEB_SECRET_KEY": "b" * 48, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", "from monitor.cli import main; main()", "serve", "--port", "8765"],
                              env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = "http://127.0.0.1:8765"
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        clients = []
        for _ in range(users):
            client = httpx.Client(base_url=base, timeout=30)
            form = client.get("/login").text
            token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            response = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
            assert response.status_code in (200, 303), response.text[:300]
            client.get("/queue")
            clients.append(client)
        times: list[float] = []
        lock = threading.Lock()

        def user(client: httpx.Client) -> None:
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get("/queue")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.status_code
                with lock:
                    times.append(elapsed)
        threads = [threading.Thread(target=user, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        figures = percentiles(times)
        print(f"  {f'{users} web users, GET /queue at once':<44} p50 {figures['p50']:7.1f} ms   p95 {figures['p95']:7.1f} ms")
        for client in clients:
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def postgres_schema(server: str, schema: str, *, reuse: bool) -> tuple[str, str]:
    """A schema of its own on the PostgreSQL server (dropped first unless reused): its URL and label."""
    admin = create_engine(server)
    with admin.begin() as connection:
        if not reuse:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    return f"{server}?options=-csearch_path%3D{schema}", f"postgresql (schema {schema})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--postgres", nargs="?", const=POSTGRES_URL, default=None,
                        help="use this PostgreSQL server (a schema of its own, kept for --reuse)")
    parser.add_argument("--sqlite", default=None, help="SQLite file (default: /tmp/monitor-scale-N.db)")
    parser.add_argument("--reuse", action="store_true", help="time an already seeded database")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--no-web", action="store_true", help="skip the four web users")
    parser.add_argument("--seed-only", action="store_true",
                        help="seed and stop (seed under `nice`, then time with --reuse at normal priority)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="monitor-scale-"))
    sqlite_path = None
    if args.postgres:
        url, label = postgres_schema(args.postgres, f"bench_scale_{args.posts}", reuse=args.reuse)
    else:
        sqlite_path = Path(args.sqlite or f"/tmp/monitor-scale-{args.posts}.db")
        if not args.reuse:
            for stale in sqlite_path.parent.glob(sqlite_path.name + "*"):
                stale.unlink()
        url = f"sqlite:///{sqlite_path}"
        label = f"sqlite ({sqlite_path})"
    db = Database(url)
    db.migrate()
    print(f"{label}: {args.posts:,} posts")
    if not args.reuse:
        started = time.perf_counter()
        seed(db, args.posts)
        maintain(db)
        print(f"  seeding took {time.perf_counter() - started:,.0f} s")
    print(f"  database size {size_of(db, sqlite_path)}")
    if args.seed_only:
        return
    measure(db, args.repeat)
    db.dispose()
    if not args.no_web:
        web_users(url, folder)


if __name__ == "__main__":
    main()
