"""The approval web app: server-rendered pages over the same `Monitor` the CLI uses.

Routes parse the form, call the service, and render; every decision (who may approve, what
counts as edited, which findings block, who holds a post) is made in `monitor/decisions.py`,
so approving here and with `monitor approve` write the same audit events.

Untrusted text (posts, authors, drafts, findings) is only ever rendered by Jinja with
autoescape on, and the Content-Security-Policy allows scripts and styles from our own
/static files only, so even a missed escape could not run a script.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Depends, FastAPI, Form, Request
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from models import OutboxState, PostStatus, Role, as_utc, utcnow
from monitor import decisions, reports, users
from monitor.outbox import NEEDS_A_PERSON
from monitor.db import DatabaseError, describe
from monitor.errors import Conflict, Forbidden, MonitorError, NeedsOverride, NotFound, TooLong
from monitor.queue import COUNT_CAP, NO_REPLY_STRATEGIES, SORTS, THREAD_PAGE, QueueFilter
from monitor import plain, teamwork
from monitor.web import charts
from monitor.web.auth import (CSRF_FIELD, LoginThrottle, WebUser, client_address, csrf_token, csrf_valid, session_key,
                              session_user, sign_in, sign_out)
from monitor.web.limits import MAX_BODY_BYTES, BodyLimit

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATUSES = ("open", "escalated", "approved", "posted", "rejected", "all")
ESCALATION_TEAMS = teamwork.TEAMS
OUTBOX_STATES = tuple(state.value for state in OutboxState)
# Replies the machine could not settle: shown highlighted, with the error, wherever they appear.
STUCK = (*NEEDS_A_PERSON, OutboxState.uncertain.value)
OUTBOX_PAGE_ROWS = 300
QUEUE_PAGE_ROWS = 50
AUDIT_PAGE_ROWS = 100
MAX_ID = 2**63 - 1                       # the largest id SQLite and PostgreSQL bigint hold
RowId = Annotated[int, FastPath(ge=1, le=MAX_ID)]
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HSTS = "max-age=31536000; includeSubDomains"   # sent only with [web] secure_cookies (served over HTTPS)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in form, form posts answer 401."""


@dataclass(frozen=True)
class QueueView:
    """The queue's filters as they travel in links and hidden form fields."""

    status: str = "open"
    platform: str = ""
    language: str = ""
    flagged: bool = False
    after: Optional[int] = None          # the page: it starts after this post (keyset)
    sort: str = "urgency"
    q: str = ""                          # search words (text or author)
    tag: str = ""
    assigned: str = ""                   # a person or a team
    proposals: bool = False              # only proposals waiting for an approver

    @classmethod
    def parse(cls, values: dict[str, str]) -> "QueueView":
        status = values.get("status", "open")
        sort = values.get("sort", "urgency")
        return cls(status=status if status in STATUSES else "open", platform=values.get("platform", "")[:40],
                   language=values.get("language", "")[:8], flagged=values.get("flagged") in ("1", "on", "true"),
                   after=parse_id(values.get("after"), "after"), sort=sort if sort in SORTS else "urgency",
                   q=values.get("q", "").strip()[:200], tag=values.get("tag", "").strip().lower()[:32],
                   assigned=values.get("assigned", "").strip()[:64],
                   proposals=values.get("proposals") in ("1", "on", "true"))

    @classmethod
    def from_query(cls, query: str) -> "QueueView":
        return cls.parse(dict(parse_qsl(query or "", keep_blank_values=False)))

    def filter(self, **changes: Any) -> QueueFilter:
        return replace(QueueFilter(status=None if self.status == "all" else self.status, platform=self.platform or None,
                                   language=self.language or None, flagged_only=self.flagged, limit=QUEUE_PAGE_ROWS,
                                   after=self.after, sort=self.sort, search=self.q, tag=self.tag or None,
                                   assigned_to=self.assigned or None, proposals=self.proposals), **changes)

    def page(self, after: Optional[int]) -> "QueueView":
        return replace(self, after=after)

    def query(self, **extra: Any) -> str:
        pairs = {"status": self.status, "platform": self.platform, "language": self.language,
                 "flagged": "1" if self.flagged else "", "after": str(self.after) if self.after else "",
                 "sort": "" if self.sort == "urgency" else self.sort, "q": self.q, "tag": self.tag,
                 "assigned": self.assigned, "proposals": "1" if self.proposals else ""}
        pairs.update({k: str(v) for k, v in extra.items() if v is not None})
        return urlencode({k: v for k, v in pairs.items() if v and not (k == "status" and v == "open")})

    def url(self, post_id: Optional[int] = None) -> str:
        query = self.query(post=post_id)
        return "/queue" + ("?" + query if query else "")


@dataclass(frozen=True)
class OutboxView:
    """The outbox page's state filter as it travels in links and hidden form fields."""

    states: tuple[str, ...] = ()

    @classmethod
    def parse(cls, values: list[str]) -> "OutboxView":
        return cls(tuple(state for state in OUTBOX_STATES if state in values))

    @classmethod
    def from_query(cls, query: str) -> "OutboxView":
        return cls.parse([value for key, value in parse_qsl(query or "") if key == "state"])

    def query(self) -> str:
        return urlencode([("state", state) for state in self.states])

    def url(self, outbox_id: Optional[int] = None) -> str:
        query = self.query()
        return "/outbox" + ("?" + query if query else "") + (f"#reply-{outbox_id}" if outbox_id else "")


def outbox_link(state: str, outbox_id: int) -> str:
    """Where a stuck reply is settled: the outbox, filtered to replies that need a person."""
    return OutboxView.parse([*STUCK, state]).url(outbox_id)


def parse_id(value: Optional[str], name: str) -> Optional[int]:
    """A row id from a query string or form: ASCII digits within the database's integer range, or
    a 400 (never int("²") or an id SQLite cannot bind, which would be a 500)."""
    if value is None or value == "":
        return None
    if len(value) > 19 or not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise HTTPException(400, f"{name} must be a whole number from 1 to {MAX_ID}.")
    return int(value)


def _safe_next(value: Optional[str]) -> str:
    """Only a path on this site (no //host, no scheme) may be a redirect target after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/queue"


FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(9999, 12, 30)   # local days that convert to UTC and back


def parse_day(value: Optional[str], name: str) -> Optional[date]:
    """A YYYY-MM-DD day for a filter, or a 400 (never a 500 for year 1, which no zone can convert)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip()[:10]) if value.strip().isascii() and len(value.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise HTTPException(400, f"{name} must be a day written YYYY-MM-DD between {FIRST_DAY} and {LAST_DAY}.")
    return day


def create_app(monitor: Any) -> FastAPI:
    """The web app for one `Monitor` (which the caller owns and closes)."""
    settings = monitor.settings
    zone = ZoneInfo(settings.app.timezone)
    app = FastAPI(title="Reply monitor", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.monitor = monitor
    throttle = LoginThrottle()
    app.state.throttle = throttle

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True)
    templates = Jinja2Templates(env=environment)

    def local(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if not value:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return as_utc(moment).astimezone(zone).strftime(fmt)

    def duration(minutes: Any) -> str:
        if minutes is None:
            return "–"
        minutes = int(round(float(minutes)))
        if minutes < 60:
            return f"{minutes} min"
        if minutes < 48 * 60:
            return f"{minutes // 60} h {minutes % 60:02d} min"
        return f"{minutes // 1440} d {minutes % 1440 // 60} h"

    def reach(value: Any) -> str:
        number = int(value or 0)
        if number >= 1_000_000:
            return f"{number / 1_000_000:.1f}M"
        if number >= 10_000:
            return f"{number // 1000}k"
        if number >= 1000:
            return f"{number / 1000:.1f}k"
        return str(number)

    def urgency_line(severity: float, flagged: bool, flags: Any, likes: int, due_at: Any, status: str) -> str:
        return plain.urgency(severity=severity, flagged=flagged, flags=flags or [], likes=likes or 0, due_at=due_at,
                             status=status, now=utcnow(), critical=settings.analysis.critical_threshold)

    def urgency_level(severity: float, flagged: bool) -> str:
        return plain.level(severity, flagged, settings.analysis.critical_threshold)

    environment.filters.update(local=local, duration=duration, reach=reach)
    environment.globals.update(urgency_line=urgency_line, urgency_level=urgency_level, event_text=plain.event_text)
    environment.globals.update(csrf_field=CSRF_FIELD, teams=ESCALATION_TEAMS, statuses=STATUSES,
                               outbox_states=OUTBOX_STATES, stuck=STUCK, needs_a_person=NEEDS_A_PERSON,
                               outbox_link=outbox_link)

    # ---- plumbing -------------------------------------------------------------------------------
    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        user = context.get("user")
        flashes = request.session.pop("flash", []) if "flash" in request.session else []
        base = {"request": request, "user": user, "csrf": csrf_token(request), "flashes": flashes,
                "path": request.url.path, "timezone": settings.app.timezone}
        return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)

    def flash(request: Request, kind: str, message: str) -> None:
        request.session["flash"] = [*request.session.get("flash", []), [kind, message]][-5:]

    def current_user(request: Request) -> WebUser:
        if not request.session.get("sid"):
            raise SignInRequired()
        with monitor.db.session() as session:
            user = session_user(session, request)
        if user is None:
            sign_out(None, request)
            raise SignInRequired()
        return user

    def admin_user(user: WebUser = Depends(current_user)) -> WebUser:
        if not user.is_admin:
            raise Forbidden(f"{user.name} is {user.role.value}; this page is for admins")
        return user

    async def check_csrf(request: Request) -> None:
        if not await csrf_valid(request):
            raise HTTPException(403, "This form was not sent from this site's own page (missing or wrong CSRF "
                                     "token). Reload the page and try again.")

    protected = [Depends(check_csrf)]

    headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if settings.web.secure_cookies else {})}

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_middleware(SessionMiddleware, secret_key=session_key(settings, monitor.secrets),
                       session_cookie="monitor_session", max_age=settings.web.session_hours * 3600,
                       same_site="lax", https_only=settings.web.secure_cookies)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, headers=headers)

    def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
        user = None
        try:
            user = current_user(request)
        except SignInRequired:
            pass
        except DatabaseError:
            pass
        return page(request, "error.html", {"user": user, "status_code": status_code, "message": message},
                    status_code=status_code)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        return error_page(request, 401, "Your session has ended. Sign in again; nothing was changed.")

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        messages = {404: "There is no such page.", 405: "That action is not available here."}
        return error_page(request, exc.status_code, str(exc.detail) if exc.status_code not in messages
                          else messages[exc.status_code])

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return error_page(request, 400, f"The request was not understood (check: {fields}).")

    @app.exception_handler(MonitorError)
    async def _monitor_error(request: Request, exc: MonitorError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, Forbidden) \
            else 400 if isinstance(exc, TooLong) else 409
        return error_page(request, status, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        """The last line: a plain page with the security headers, never a traceback (logged here)."""
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
        try:
            response: Response = page(request, "error.html", {"user": None, "status_code": 500, "message":
                                      "Something went wrong on our side; nothing was changed by this request. "
                                      "Try again; if it keeps happening, tell your admin the time it happened "
                                      "(the details are in the server's log)."}, status_code=500)
        except Exception:            # the page itself failed: plain text, still without a traceback
            response = PlainTextResponse("Something went wrong on our side; nothing was changed by this request.",
                                         status_code=500)
        response.headers.update({**headers, "Cache-Control": "no-store"})
        return response

    @app.exception_handler(DatabaseError)
    async def _database_error(request: Request, exc: DatabaseError) -> Response:
        return PlainTextResponse(f"The database cannot be used right now: {exc}", status_code=503)

    # ---- sign-in --------------------------------------------------------------------------------
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/login")
    def login_form(request: Request, next: str = "/queue") -> HTMLResponse:
        return page(request, "login.html", {"user": None, "next": _safe_next(next), "error": None, "username": ""})

    @app.post("/login", dependencies=protected)
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              next: str = Form("/queue")) -> Response:
        username = username.strip()[:64]
        address_key, name_key = throttle.keys(client_address(request), username)
        with monitor.db.session() as session:
            wait = throttle.wait_seconds(session, address_key, name_key)
        if wait > 0:
            return page(request, "login.html", {"user": None, "next": _safe_next(next), "username": username,
                                                "error": f"Too many failed sign-ins; try again in {math.ceil(wait)} s."},
                        status_code=429)
        with monitor.db.session() as session:
            user = users.authenticate(session, username, password[:users.MAX_PASSWORD + 1])
            if user is None:
                throttle.failed(session, address_key, name_key)
            else:
                throttle.succeeded(session, name_key)
                sign_in(session, request, user, settings.web.session_hours)
        if user is None:
            return page(request, "login.html", {"user": None, "next": _safe_next(next), "username": username,
                                                "error": "Wrong user name or password (or the user is disabled)."},
                        status_code=401)
        return RedirectResponse(_safe_next(next), status_code=303)

    @app.post("/logout", dependencies=protected)
    def logout(request: Request) -> RedirectResponse:
        held = request.session.get("holding")
        try:
            if isinstance(held, int):
                monitor.release(held, current_user(request).actor)
        except (SignInRequired, MonitorError):
            pass
        with monitor.db.session() as session:
            sign_out(session, request)
        return RedirectResponse("/login", status_code=303)

    # ---- the queue screen ------------------------------------------------------------------------
    def queue_page(request: Request, user: WebUser, view: QueueView, post_id: Optional[int], *,
                   status_code: int = 200, error: Optional[str] = None, reply_text: Optional[str] = None,
                   override_findings: Optional[list[dict[str, Any]]] = None,
                   translate: bool = False, thread_after: Optional[int] = None) -> HTMLResponse:
        """One page of the queue and the selected post. Looking never locks a post: a person
        takes it with "Assign to me", and saving an edit holds it (see `propose`)."""
        items = monitor.queue(view.filter())
        total = monitor.queue_count(view.filter())
        lock_holder, lock_until, holding_until = None, None, None
        chosen = post_id is not None          # a phone shows the list until a post is chosen
        if post_id is None and items:
            free = [i for i in items if not i.claimed_by or i.claimed_by == user.name]
            post_id = (free or items)[0].id
        detail = monitor.show(post_id, thread_after=thread_after) if post_id is not None else None
        if detail is not None:
            post = detail.post
            until = datetime.fromisoformat(post["claimed_until"]) if post.get("claimed_until") else None
            if post.get("claimed_by") and until and until > utcnow():
                if post["claimed_by"] != user.name:
                    lock_holder, lock_until = post["claimed_by"], until
                else:
                    holding_until = until
        draft = detail.draft if detail else None
        translation = monitor.translate(detail.post["text"]) if detail and translate else None
        findings = override_findings if override_findings is not None else (draft or {}).get("findings", [])
        blocking = [f for f in findings if f.get("severity", "block") == "block"]
        position = next((i for i, item in enumerate(items) if detail and item.id == detail.post["id"]), None)
        context = {
            "user": user, "view": view, "items": items, "total": total, "detail": detail, "error": error,
            "total_text": f"more than {COUNT_CAP:,}" if total > COUNT_CAP else f"{total:,}",
            "next_page": view.page(items[-1].id) if len(items) == QUEUE_PAGE_ROWS else None,
            "first_page": view.page(None) if view.after else None,
            "reply_text": reply_text if reply_text is not None else (draft or {}).get("text", ""),
            "findings": findings, "blocking": blocking, "needs_override": override_findings is not None,
            "lock_holder": lock_holder, "lock_until": lock_until, "holding_until": holding_until,
            "decidable": bool(detail and detail.post["status"] in (PostStatus.open, PostStatus.escalated)),
            "position": position, "platforms": sorted({s.platform for s in settings.sources}),
            "needing_a_person": sum(monitor.outbox_counts(NEEDS_A_PERSON).values()),
            "needing_a_person_url": OutboxView(NEEDS_A_PERSON).url(),
            "four_eyes": settings.approval.four_eyes,
            "colleagues": colleagues(), "proposals_waiting": monitor.queue_count(QueueFilter(proposals=True)),
            "no_reply": bool(draft and draft.get("strategy") in NO_REPLY_STRATEGIES and not (draft.get("text") or "").strip()),
            "notes": [e for e in detail.events if e["action"] == teamwork.NOTE_ACTION] if detail else [],
            "translation": translation, "translator_configured": monitor.translator is not None,
            "sorts": SORTS, "chosen": chosen,
            "more_thread": (view.url(detail.post["id"]) + ("&" if "?" in view.url(detail.post["id"]) else "?")
                            + f"thread_after={detail.thread[-1]['id']}#thread")
            if detail and len(detail.thread) == THREAD_PAGE else None,
            "saved_replies": monitor.saved_replies(language=detail.post.get("language")) if detail else [],
        }
        return page(request, "queue.html", context, status_code=status_code)

    @app.get("/queue")
    def queue_screen(request: Request, post: Optional[str] = None, saved: Optional[str] = None,
                     user: WebUser = Depends(current_user)) -> HTMLResponse:
        view = QueueView.parse({k: v for k, v in request.query_params.items() if k != "saved"})
        post_id = parse_id(post, "post")
        reply_text = None
        if saved and post_id is not None:   # a saved reply fills the editor; approving it is an ordinary approval
            reply_text = next((r["text"] for r in monitor.saved_replies() if r["name"] == saved), None)
        return queue_page(request, user, view, post_id, reply_text=reply_text,
                          translate=request.query_params.get("translate") == "1",
                          thread_after=parse_id(request.query_params.get("thread_after"), "thread_after"))

    def colleagues() -> list[str]:
        with monitor.db.session() as session:
            return [u.username for u in users.list_users(session) if u.active]

    def next_url(view: QueueView, post_id: int) -> str:
        """Where to go after deciding `post_id`: the post that followed it in the same list (the
        first of the list when it was the last)."""
        try:
            following = monitor.queue(view.filter(after=post_id, limit=1))
        except NotFound:
            following = []
        if not following:
            following = monitor.queue(view.filter(after=None, limit=1))
        return view.url(following[0].id if following else None)

    def act(request: Request, user: WebUser, post_id: int, q: str, action, done: str,
            reply_text: Optional[str] = None, stay: bool = False) -> Response:
        view = QueueView.from_query(q)
        target = view.url(post_id) if stay else next_url(view, post_id)
        try:
            action()
        except NeedsOverride as exc:
            return queue_page(request, user, view, post_id, status_code=409, error=str(exc), reply_text=reply_text,
                              override_findings=exc.findings)
        except Forbidden as exc:
            return queue_page(request, user, view, post_id, status_code=403, error=str(exc), reply_text=reply_text)
        except TooLong as exc:
            return queue_page(request, user, view, post_id, status_code=400, error=str(exc), reply_text=reply_text)
        except Conflict as exc:
            return queue_page(request, user, view, post_id, status_code=409, error=str(exc), reply_text=reply_text)
        flash(request, "ok", done)
        return RedirectResponse(target, status_code=303)

    @app.post("/posts/{post_id}/approve", dependencies=protected)
    def approve(request: Request, post_id: RowId, text: str = Form(""), override_reason: str = Form(""),
                q: str = Form(""), user: WebUser = Depends(current_user)) -> Response:
        # The text the person saw (or edited) is what is approved: never "whatever the newest draft is".
        return act(request, user, post_id, q,
                   lambda: monitor.approve(post_id, user.actor, text=text, override_reason=override_reason or None),
                   f"Approved the reply to post {post_id}; it goes out with the next posting run, or at once "
                   "with \u201cSend approved replies now\u201d in the Outbox.", reply_text=text)

    @app.post("/posts/{post_id}/propose", dependencies=protected)
    def propose(request: Request, post_id: RowId, text: str = Form(""), q: str = Form(""),
                user: WebUser = Depends(current_user)) -> Response:
        # The handoff: the proposal goes to the approvers' "Proposals" view and the proposer's
        # hold on the post ends, so an approver can take it at once.
        return act(request, user, post_id, q, lambda: monitor.propose(post_id, user.actor, text),
                   f"Sent your reply for post {post_id} to the approvers; it waits under Proposals.", reply_text=text,
                   stay=True)

    @app.post("/posts/{post_id}/reject", dependencies=protected)
    def reject(request: Request, post_id: RowId, reason: str = Form(""), q: str = Form(""),
               user: WebUser = Depends(current_user)) -> Response:
        return act(request, user, post_id, q, lambda: monitor.reject(post_id, user.actor, reason),
                   f"Closed post {post_id} without a reply.")

    @app.post("/posts/{post_id}/escalate", dependencies=protected)
    def escalate(request: Request, post_id: RowId, to: str = Form("legal"), reason: str = Form(""),
                 q: str = Form(""), user: WebUser = Depends(current_user)) -> Response:
        return act(request, user, post_id, q,
                   lambda: monitor.escalate(post_id, user.actor, to, reason.strip() or None),
                   f"Escalated post {post_id} to {to.strip()[:60]}.")

    @app.post("/posts/{post_id}/assign", dependencies=protected)
    def assign(request: Request, post_id: RowId, to: str = Form("me"), q: str = Form(""),
               user: WebUser = Depends(current_user)) -> Response:
        target = to.strip()[:64] or "me"

        def give() -> None:
            monitor.assign(post_id, user.actor, target)
            if target in ("me", user.name):
                request.session["holding"] = post_id
        mine = target in ("me", user.name)
        return act(request, user, post_id, q, give,
                   f"Post {post_id} is yours." if mine else f"Assigned post {post_id} to {target}.", stay=True)

    @app.post("/posts/{post_id}/note", dependencies=protected)
    def add_note(request: Request, post_id: RowId, note: str = Form(""), q: str = Form(""),
                 user: WebUser = Depends(current_user)) -> Response:
        return act(request, user, post_id, q, lambda: monitor.note(post_id, user.actor, note),
                   f"Added your note to post {post_id} (colleagues only; never posted).", stay=True)

    @app.post("/posts/{post_id}/tags", dependencies=protected)
    def set_tags(request: Request, post_id: RowId, add: str = Form(""), remove: str = Form(""), q: str = Form(""),
                 user: WebUser = Depends(current_user)) -> Response:
        added = [t for t in add.replace(",", " ").split() if t][:teamwork.MAX_TAGS]
        removed = [remove] if remove.strip() else []
        return act(request, user, post_id, q, lambda: monitor.tag(post_id, user.actor, tuple(added), tuple(removed)),
                   f"Tags of post {post_id} saved.", stay=True)

    @app.post("/posts/{post_id}/close", dependencies=protected)
    def close_post(request: Request, post_id: RowId, reason: str = Form(""), q: str = Form(""),
                   user: WebUser = Depends(current_user)) -> Response:
        return act(request, user, post_id, q, lambda: monitor.close_posts([post_id], user.actor, reason),
                   f"Closed post {post_id}: no reply needed ({reason.strip()[:80]}).")

    @app.post("/queue/close", dependencies=protected)
    async def bulk_close(request: Request, user: WebUser = Depends(current_user)) -> Response:
        form = await request.form()
        view = QueueView.from_query(str(form.get("q", "")))
        ids = [parse_id(str(v), "post") for v in form.getlist("post")][:teamwork.MAX_BULK]
        reason = str(form.get("reason", ""))
        if not ids:
            flash(request, "error", "Tick the posts to close first.")
            return RedirectResponse(view.url(), status_code=303)
        report = monitor.close_posts([i for i in ids if i], user.actor, reason)
        if report.closed:
            flash(request, "ok", f"Closed {len(report.closed)} post{'' if len(report.closed) == 1 else 's'} without a "
                                 f"reply ({reason.strip()[:80]}).")
        for post_id, why in list(report.refused.items())[:5]:
            flash(request, "error", f"Post {post_id} stays open: {why}")
        return RedirectResponse(view.url(), status_code=303)

    @app.post("/posts/{post_id}/check", dependencies=protected)
    def live_check(request: Request, post_id: RowId, text: str = Form(""),
                   user: WebUser = Depends(current_user)) -> JSONResponse:
        """The editor's live count and findings: the same safety check approval runs."""
        return JSONResponse(monitor.check_reply(post_id, text[:decisions.MAX_REPLY_CHARS]))

    @app.post("/outbox/send", dependencies=protected)
    def send_now(request: Request, user: WebUser = Depends(current_user)) -> Response:
        """"Send approved replies now": the posting run `monitor post` does, for approvers."""
        user.actor.require(Role.approver, Role.admin)
        report = monitor.post_approved()
        sent = len(report.sent) + len(report.reconciled)
        problems = len(report.failed) + len(report.uncertain) + len(report.needs_person)
        flash(request, "ok" if not problems else "error",
              f"Posted {sent} repl{'y' if sent == 1 else 'ies'}" + (f"; {problems} need a look below." if problems else "."))
        return RedirectResponse("/outbox", status_code=303)

    @app.post("/posts/{post_id}/release", dependencies=protected)
    def release(request: Request, post_id: RowId, q: str = Form(""),
                user: WebUser = Depends(current_user)) -> Response:
        return act(request, user, post_id, q, lambda: monitor.release(post_id, user.actor),
                   f"Released post {post_id} for colleagues.", stay=True)

    # ---- the outbox: approved replies, and what a person does with a stuck one ----------------------
    def outbox_page(request: Request, user: WebUser, view: OutboxView, *, status_code: int = 200,
                    error: Optional[str] = None, error_id: Optional[int] = None,
                    after: Optional[int] = None) -> HTMLResponse:
        known = monitor.outbox_counts()
        counts = {state: known.get(state, 0) for state in OUTBOX_STATES}
        shown = monitor.outbox(view.states, limit=OUTBOX_PAGE_ROWS, newest_first=True, after=after)
        total = sum(counts[state] for state in view.states) if view.states else sum(counts.values())
        return page(request, "outbox.html", {
            "user": user, "view": view, "rows": shown, "total": total, "counts": counts, "error": error,
            "error_id": error_id, "needs_a_person_view": OutboxView(NEEDS_A_PERSON),
            "stuck_view": OutboxView(STUCK), "after": after,
            "next_page": view.url() + ("&" if view.states else "?") + f"after={shown[-1]['id']}"
            if len(shown) == OUTBOX_PAGE_ROWS else None}, status_code=status_code)

    @app.get("/outbox")
    def outbox_screen(request: Request, user: WebUser = Depends(current_user)) -> HTMLResponse:
        return outbox_page(request, user, OutboxView.parse(request.query_params.getlist("state")),
                           after=parse_id(request.query_params.get("after"), "after"))

    def settle(request: Request, user: WebUser, outbox_id: int, q: str, action, done: str) -> Response:
        """Run one person's action on a stuck reply; a refusal re-renders the outbox with the reason."""
        view = OutboxView.from_query(q)
        try:
            action()
        except Forbidden as exc:
            return outbox_page(request, user, view, status_code=403, error=str(exc), error_id=outbox_id)
        except TooLong as exc:
            return outbox_page(request, user, view, status_code=400, error=str(exc), error_id=outbox_id)
        except Conflict as exc:
            return outbox_page(request, user, view, status_code=409, error=str(exc), error_id=outbox_id)
        flash(request, "ok", done)
        return RedirectResponse(view.url(outbox_id), status_code=303)

    @app.post("/outbox/{outbox_id}/retry", dependencies=protected)
    def outbox_retry(request: Request, outbox_id: RowId, q: str = Form(""),
                     user: WebUser = Depends(current_user)) -> Response:
        return settle(request, user, outbox_id, q, lambda: monitor.retry_reply(outbox_id, user.actor),
                      f"Reply {outbox_id} will be sent again by the next posting run.")

    @app.post("/outbox/{outbox_id}/resolve", dependencies=protected)
    def outbox_resolve(request: Request, outbox_id: RowId, reply_id: str = Form(""), q: str = Form(""),
                       user: WebUser = Depends(current_user)) -> Response:
        reply_id = reply_id.strip()
        return settle(request, user, outbox_id, q, lambda: monitor.resolve_reply(outbox_id, user.actor, reply_id),
                      f"Reply {outbox_id} is recorded as posted ({reply_id}); it is never sent again.")

    @app.post("/outbox/{outbox_id}/cancel", dependencies=protected)
    def outbox_cancel(request: Request, outbox_id: RowId, reason: str = Form(""), q: str = Form(""),
                      user: WebUser = Depends(current_user)) -> Response:
        return settle(request, user, outbox_id, q, lambda: monitor.cancel_reply(outbox_id, user.actor, reason),
                      f"Reply {outbox_id} is withdrawn; its post is open again for a new decision.")

    # ---- dashboard, sources, audit, users ---------------------------------------------------------
    @app.get("/dashboard")
    def dashboard(request: Request, user: WebUser = Depends(current_user)) -> HTMLResponse:
        with monitor.db.session() as session:
            figures = reports.dashboard(session, utcnow(), settings.app.timezone, settings.web.dashboard_days)
        labels = [day.strftime("%m-%d") for day in figures.days]
        lines = []
        for index, series in enumerate(figures.answer_series):
            lines += [(f"{series.channel} p50", series.p50, index, False), (f"{series.channel} p90", series.p90, index, True)]
        answer_chart = charts.line_chart(labels, lines)
        flagged_chart = charts.stacked_bars(labels, [(plain.REASONS.get(code, code), values)
                                                      for code, values in figures.flagged_by_reason.items()])
        return page(request, "dashboard.html", {"user": user, "figures": figures, "answer_chart": answer_chart,
                                                "flagged_chart": flagged_chart, "labels": labels})

    @app.get("/decisions.csv")
    def decisions_csv(request: Request, since: Optional[str] = None, until: Optional[str] = None,
                      user: WebUser = Depends(current_user)) -> StreamingResponse:
        start, end = parse_day(since, "since"), parse_day(until, "until")
        begin = reports.day_start_utc(start, zone) if start else None
        finish = reports.day_start_utc(end + timedelta(days=1), zone) if end else None

        def rows() -> Iterator[dict[str, Any]]:
            with monitor.db.session() as session:   # read while streaming: the export is never held whole
                yield from reports.decision_rows(session, begin, finish)
        name = f"decisions-{utcnow():%Y%m%d-%H%M}.csv"
        return StreamingResponse(reports.to_csv(rows()), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/sources")
    def sources(request: Request, user: WebUser = Depends(current_user)) -> HTMLResponse:
        return page(request, "sources.html", {"user": user, "sources": monitor.sources(), "now": utcnow().isoformat()})

    @app.get("/audit")
    def audit(request: Request, actor: str = "", action: str = "", post_id: str = "", date_from: str = "",
              date_to: str = "", before: str = "", page_number: str = "", user: WebUser = Depends(current_user)) -> HTMLResponse:
        """Newest first, `AUDIT_PAGE_ROWS` at a time; "older" pages start before the last id shown."""
        size = AUDIT_PAGE_ROWS
        parse_id(page_number, "page_number")   # the old offset pages: links may still carry one (ignored)
        actor, action, post_id = actor.strip()[:64], action.strip()[:64], post_id.strip()[:40]
        problems: list[str] = []

        def typed(parse, value: str, name: str) -> Any:
            """What a person typed into the filter form: unreadable is ignored, and said so."""
            try:
                return parse(value, name)
            except HTTPException:
                problems.append(name)
                return None
        start, end = typed(parse_day, date_from, "from"), typed(parse_day, date_to, "to")
        filters = reports.AuditFilter(
            actor=actor or None, action=action or None, post_id=typed(parse_id, post_id, "post id"),
            since=reports.day_start_utc(start, zone) if start else None,
            until=reports.day_start_utc(end + timedelta(days=1), zone) if end else None,
            limit=size + 1, before=parse_id(before, "before"))
        with monitor.db.session() as session:
            events = reports.audit_log(session, filters)
            actors, actions = reports.audit_vocabulary(session)
        query = {"actor": actor, "action": action, "post_id": post_id, "date_from": date_from, "date_to": date_to}
        return page(request, "audit.html", {
            "user": user, "events": events[:size], "more": len(events) > size, "before": filters.before,
            "older": events[size - 1]["id"] if len(events) > size else None, "filters": query,
            "actors": actors, "actions": actions, "problems": problems,
            "query": urlencode({k: v for k, v in query.items() if v})})

    @app.get("/users")
    def users_page(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
        with monitor.db.session() as session:
            rows = users.list_users(session)
        return page(request, "users.html", {"user": user, "users": rows})

    @app.get("/privacy")
    def privacy_page(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
        """GDPR: erase one person's data (the same service call as `monitor forget`)."""
        with monitor.db.session() as session:
            events = reports.audit_log(session, reports.AuditFilter(action="privacy.forget", limit=20))
        platforms = sorted({s.platform for s in settings.sources})
        return page(request, "privacy.html", {"user": user, "events": events, "platforms": platforms})

    @app.post("/privacy/forget", dependencies=protected)
    def privacy_forget(request: Request, platform: str = Form(""), author: str = Form(""),
                       confirm: str = Form(""), user: WebUser = Depends(admin_user)) -> Response:
        if confirm != "erase":
            flash(request, "error", "Nothing erased: type erase to confirm.")
            return RedirectResponse("/privacy", status_code=303)
        erased = monitor.forget(platform.strip()[:64], author.strip()[:200], user.actor)
        flash(request, "ok", f"Erased {len(erased.posts)} post(s) of that person on {platform.strip()[:64]}"
                             + (f"; withdrew {len(erased.withdrawn)} unsent reply(ies)." if erased.withdrawn else "."))
        return RedirectResponse("/privacy", status_code=303)

    @app.get("/settings")
    def settings_page(request: Request, user: WebUser = Depends(admin_user)) -> HTMLResponse:
        # Settings hold no secrets (settings.toml refuses them); secrets are shown only as set / not set.
        sections = settings.model_dump(mode="json", exclude={"sources", "path"})
        sections["app"]["database_url"] = describe(settings.app.database_url)   # never a password on a page
        secret_names = {"web.secret_key": bool(monitor.secrets.get("web", "secret_key"))}
        return page(request, "settings.html", {"user": user, "sections": sections, "sources": settings.sources,
                                               "path": settings.path, "secret_names": secret_names})

    return app
