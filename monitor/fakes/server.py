"""`FakePlatforms`: one local HTTP server (127.0.0.1, a free port) that answers like X, the Graph
API (Facebook and Instagram), Reddit, Google Business Profile, Allegro, VK, YouTube and
Trustpilot for the endpoints our connectors use. The real client libraries are pointed at it; tests and `monitor demo` use it.

It keeps items in memory, accepts replies (and lists them), pages with a small page size, and
can be told to fail the next requests of a platform in the ways real platforms do.

Control from another process: POST /_fake/fail {"platform", "kind", "times", "after", "on"},
POST /_fake/posts {"platform", "text", ...}, GET /_fake/replies?platform=..., GET /_fake/requests.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union
from urllib.parse import parse_qs, urlsplit

from monitor.fakes import allegro, google, graph, reddit, trustpilot, vk, x, youtube
from monitor.fakes.http import Answer, Request
from monitor.fakes.state import FAILURE_KINDS, PLATFORMS, Brand, Failure, FakeState, SeenRequest, utc

log = logging.getLogger(__name__)
Seed = Union[None, str, Path, Iterable[Mapping[str, Any]]]
TOKEN_PATHS = (reddit.TOKEN_PATH, google.TOKEN_PATH, allegro.TOKEN_PATH, youtube.TOKEN_PATH, trustpilot.TOKEN_PATH)


class _Server(ThreadingHTTPServer):
    """socketserver listens with a backlog of 5: concurrent clients (several `monitor post`
    processes, a daemon and a browser) opening connections at once overflowed it, and the
    kernel reset the surplus connections ("Connection reset by peer" / RemoteDisconnected on
    the client's first request over them). Real platforms do not."""

    request_queue_size = 1024
    daemon_threads = True


class FakePlatforms:
    def __init__(self, *, page_size: int = 3, brand: Brand = Brand(), port: int = 0):
        self.state = FakeState(brand, page_size)
        self.seeded: dict[str, tuple[str, str]] = {}   # demo id -> (platform, external id)
        handler = type("FakeHandler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    # --- life cycle ------------------------------------------------------------------------

    @classmethod
    def start(cls, seed: Seed = None, *, page_size: int = 3, brand: Brand = Brand(), port: int = 0) -> "FakePlatforms":
        """Start serving; `seed` is "demo" (the packaged demo posts), a TOML path, or post dicts."""
        fake = cls(page_size=page_size, brand=brand, port=port)
        if seed is not None:
            from monitor.fakes.demo import load_demo_posts, seed_posts
            posts = load_demo_posts(None if seed == "demo" else seed) if isinstance(seed, (str, Path)) else seed
            seed_posts(fake, posts)
        fake._thread = threading.Thread(target=fake._server.serve_forever, args=(0.05,), name="fake-platforms", daemon=True)
        fake._thread.start()
        return fake

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def brand(self) -> Brand:
        return self.state.brand

    @property
    def page_size(self) -> int:
        return self.state.page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        self.state.page_size = max(1, int(value))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakePlatforms":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-platforms", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- content ---------------------------------------------------------------------------

    def add_post(self, platform: str, text: str, *, kind: Optional[str] = None, author: str = "customer",
                 minutes_ago: float = 0, created_at: Optional[datetime] = None, parent: Optional[str] = None,
                 reach: int = 0, likes: int = 0, shares: int = 0, replies: int = 0,
                 rating: Optional[int] = None, demo_id: Optional[str] = None,
                 subreddit: Optional[str] = None) -> str:
        """Put an item on a platform; returns its id as the connector will report it.

        kinds: x any (a tweet mentioning the brand; `parent` makes it a reply); facebook
        "comment" (on the page's post), "reply" (to `parent` or the newest comment), "mention"
        (a visitor post on the page); instagram "comment", "reply"; reddit "comment" (in the
        subreddit), "mention" (also in the brand's inbox), "reply", "post"; google_reviews
        "review" with `rating`; allegro "review" (a sales rating, `rating` 1-5: 3 and up recommend);
        vk "comment" (on the community's post), "reply" (in the thread of `parent` or the newest
        comment); youtube "comment" (on the channel's video), "reply"; trustpilot "review" with
        `rating` (a first line followed by more lines becomes the title).
        """
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}")
        created = created_at or utc(minutes_ago)
        common = dict(author=author, created=created, reach=reach, likes=likes, shares=shares,
                      replies=replies, demo_id=demo_id)
        with self.state.lock:
            if platform == "x":
                item = x.add_post(self.state, text, parent=parent, **common)
            elif platform in ("facebook", "instagram"):
                item = graph.add_post(self.state, platform, text, kind=kind or "comment", parent=parent, **common)
            elif platform == "reddit":
                item = reddit.add_post(self.state, text, kind=kind or "comment", parent=parent,
                                       subreddit=subreddit, **common)
            elif platform == "google_reviews":
                item = google.add_post(self.state, text, rating=rating, **common)
            elif platform == "allegro":
                item = allegro.add_post(self.state, text, rating=rating, **common)
            elif platform == "trustpilot":
                item = trustpilot.add_post(self.state, text, rating=rating, **common)
            elif platform == "vk":
                item = vk.add_post(self.state, text, kind=kind or "comment", parent=parent, **common)
            else:
                item = youtube.add_post(self.state, text, kind=kind or "comment", parent=parent, **common)
        if demo_id:
            self.seeded[demo_id] = (platform, item.id)
        return item.id

    def add_retweet(self, original: str, *, author: str = "retweeter", minutes_ago: float = 0, reach: int = 0) -> str:
        """An X retweet of `original` (as X lists it: cut text, the original in `includes`)."""
        with self.state.lock:
            return x.add_retweet(self.state, original, author=author, created=utc(minutes_ago), reach=reach).id

    def replies(self, platform: Optional[str] = None) -> list[dict[str, Any]]:
        """Replies the brand posted, oldest first: {platform, id, in_reply_to, text, created_at}."""
        with self.state.lock:
            return [dict(r) for r in self.state.replies if platform is None or r["platform"] == platform]

    def fail_next(self, platform: str, kind: str, times: int = 1, *, after: int = 0,
                  on: Optional[str] = None) -> None:
        """Answer the next `times` requests of `platform` (after letting `after` through) with a
        failure: one of FAILURE_KINDS. `on` = "read" or "write" limits it to GETs or to posts."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure {kind!r}; one of {', '.join(FAILURE_KINDS)}")
        if on not in (None, "read", "write"):
            raise ValueError("on must be None, 'read' or 'write'")
        with self.state.lock:
            self.state.failures.append(Failure(platform, kind, max(1, int(times)), max(0, int(after)), on))

    def clear_failures(self) -> None:
        with self.state.lock:
            self.state.failures.clear()

    def requests(self, platform: Optional[str] = None) -> list[SeenRequest]:
        with self.state.lock:
            return [r for r in self.state.requests if platform is None or r.platform == platform]

    # --- dispatch --------------------------------------------------------------------------

    def _platform_of(self, path: str) -> Optional[tuple[str, Any]]:
        if path.startswith(x.PREFIX):
            return "x", x
        found = graph.platform_of(self.state, path)
        if found:
            return found, graph
        if reddit.owns(path):
            return "reddit", reddit
        if google.owns(path):
            return "google_reviews", google
        for name, module in (("allegro", allegro), ("vk", vk), ("youtube", youtube), ("trustpilot", trustpilot)):
            if module.owns(path):
                return name, module
        return None

    def _control(self, request: Request) -> Answer:
        body = request.json if isinstance(request.json, dict) else {}
        try:
            if request.path == "/_fake/fail" and request.method == "POST":
                self.fail_next(str(body.get("platform")), str(body.get("kind")), int(body.get("times", 1)),
                               after=int(body.get("after", 0)), on=body.get("on"))
                return Answer(200, {"ok": True})
            if request.path == "/_fake/posts" and request.method == "POST":
                fields = {k: v for k, v in body.items() if k not in ("platform", "text")}
                return Answer(200, {"id": self.add_post(str(body.get("platform")), str(body.get("text", "")), **fields)})
            if request.path == "/_fake/replies" and request.method == "GET":
                return Answer(200, {"replies": self.replies(request.query.get("platform"))})
            if request.path == "/_fake/requests" and request.method == "GET":
                return Answer(200, {"requests": [dict(asdict(r), at=r.at.isoformat()) for r in self.requests()]})
        except (TypeError, ValueError) as exc:
            return Answer(400, {"error": str(exc)})
        return Answer(404, {"error": "unknown control endpoint"})

    def _answer(self, request: Request) -> tuple[Optional[Answer], str]:
        """The answer and what to do with it: "send", "truncate", "drop" (close, nothing sent)."""
        if request.path.startswith("/_fake/"):
            return self._control(request), "send"
        found = self._platform_of(request.path)
        if found is None:
            return Answer(404, {"error": "not a fake platform endpoint"}), "send"
        platform, module = found
        token_call = request.path.rstrip("/") in TOKEN_PATHS
        method = module.verb(request) if hasattr(module, "verb") else request.method  # VK: all POSTs
        with self.state.lock:
            kind = self.state.take_failure(platform, method, token_call)
            self.state.requests.append(SeenRequest(platform, method, request.path, utc(), kind))
            if kind == "disconnect":
                return None, "drop"
            if kind == "lost_response":
                module.handle(self.state, request)
                return None, "drop"
            if kind == "truncated":
                return module.handle(self.state, request), "truncate"
            if kind == "malformed" and method == "GET":
                return _damaged(module, module.handle(self.state, request)), "send"
            if kind:
                answer = module.failure(self.state, request, kind)
                if answer is not None:
                    return answer, "send"
            return module.handle(self.state, request), "send"


# What a platform sometimes leaves out of one item of a listing (the rest of the page is fine).
_REQUIRED = ("author_id", "created_time", "timestamp", "created_utc", "createTime", "createdAt", "date",
             "publishedAt")


def _damaged(module: Any, answer: Answer) -> Answer:
    """A "malformed" read: the real page, its first item missing a field every reader needs
    (as in a real X mentions page holding one tweet without `author_id`). A platform module
    whose listings have their own shape says where their items are (`listed`)."""
    body = answer.body
    if hasattr(module, "listed"):
        items = module.listed(body)
    else:
        items = body.get("data") if isinstance(body, dict) else None
        if isinstance(items, dict):  # Reddit: a Listing
            items = [child.get("data") for child in items.get("children") or [] if isinstance(child, dict)]
        if items is None and isinstance(body, dict):
            items = body.get("reviews")
    for item in items or []:
        if isinstance(item, dict):
            for key in _REQUIRED:
                item.pop(key, None)
            break
    return answer


class _Handler(BaseHTTPRequestHandler):
    fake: FakePlatforms
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # Quiet, and never the query string: Graph clients put the access token there.
        log.debug("fake platforms: %s %s", self.command, urlsplit(self.path).path)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        form: dict[str, str] = {}
        body: Any = None
        if "json" in content_type and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        elif raw:
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        request = Request(method=self.command, path=parts.path, headers=self.headers, form=form, json=body,
                          query={k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                          base_url=self.fake.base_url)
        try:
            answer, action = self.fake._answer(request)
        except Exception:  # a bug in the fake must show as a 500, not a hung client
            log.exception("fake platforms: handler failed for %s %s", self.command, parts.path)
            answer, action = Answer(500, {"error": "fake server error"}), "send"
        if action == "drop" or answer is None:
            self.close_connection = True
            return
        payload = answer.encoded()
        if action == "truncate":
            payload = payload[: max(1, len(payload) // 2)]
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
