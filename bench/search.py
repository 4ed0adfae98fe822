"""Team inbox timings on a big database: search over text and author (SQLite FTS5 / PostgreSQL
full-text), the tag and proposal views, and the age and reach orders, first page and count.

    python bench/search.py --posts 100000 [--postgres [URL]] [--reuse]

Seeds with bench/scale.py's rows (one text per post: "bench post N: the parcel is late again
and nobody answers"), so "parcel" matches every post and "173" a hundred or so. Target (p95): a
view's first page with its count under 150 ms at 100,000 posts. The tag view is a LIKE over the
posts of the chosen status (no index): it grows with the table."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402
from sqlmodel import col  # noqa: E402

from bench.scale import POSTGRES_URL, maintain, postgres_schema, seed, timed  # noqa: E402
from models import Post  # noqa: E402
from monitor.db import Database  # noqa: E402
from monitor.queue import QueueFilter, count_queue, list_queue  # noqa: E402


def measure(db: Database, repeat: int) -> None:
    with db.session() as session:     # a few tagged posts and proposals, as a team leaves them
        session.execute(update(Post).where(col(Post.id) % 997 == 0).values(tags=" shipping "))
        session.execute(update(Post).where(col(Post.id) % 1999 == 0, Post.status == "open").values(proposed_by="olek"))

    def page(filters: QueueFilter) -> None:
        with db.session() as session:
            list_queue(session, filters)
            count_queue(session, filters)

    for label, filters in (
            ("search, a rare word (first page + count)", QueueFilter(status=None, search="173")),
            ("search, a word in every post", QueueFilter(status=None, search="parcel")),
            ("search, two words, open posts", QueueFilter(search="parcel late")),
            ("search, an author's name prefix", QueueFilter(status=None, search="user12")),
            ("tag view (#shipping, every status)", QueueFilter(status=None, tag="shipping")),
            ("proposals waiting", QueueFilter(proposals=True)),
            ("open posts, oldest first", QueueFilter(sort="age")),
            ("open posts, biggest audience first", QueueFilter(sort="reach"))):
        timed(label, repeat, lambda n, f=filters: page(f))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--postgres", nargs="?", const=POSTGRES_URL, default=None)
    parser.add_argument("--sqlite", default=None, help="SQLite file (default: /tmp/monitor-search-N.db)")
    parser.add_argument("--reuse", action="store_true", help="time an already seeded database")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.postgres:
        url, label = postgres_schema(args.postgres, f"bench_search_{args.posts}", reuse=args.reuse)
    else:
        path = Path(args.sqlite or f"/tmp/monitor-search-{args.posts}.db")
        if not args.reuse:
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
        url, label = f"sqlite:///{path}", f"sqlite ({path})"
    db = Database(url)
    db.migrate()
    print(f"{label}: {args.posts:,} posts")
    if not args.reuse:
        started = time.perf_counter()
        seed(db, args.posts)
        maintain(db)
        print(f"  seeding took {time.perf_counter() - started:,.0f} s")
    measure(db, args.repeat)
    db.dispose()


if __name__ == "__main__":
    main()
