"""The review queue: what waits for a person, most urgent first.

Ordering is by urgency only, never by channel (guideline 1): severity, raised by
`OVERDUE_BOOST` once a post is past its due time (so overdue items rise without burying a fresh
fraud accusation under old praise), then how long the post has waited.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import and_, func, literal, or_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime
from sqlmodel import Session, col, select

from models import Assessment, AuditEvent, Decision, Draft, OutboxReply, Post, PostStatus, as_utc, utcnow
from monitor.decisions import get_post, latest_draft
from monitor.errors import NotFound


@dataclass(frozen=True)
class QueueFilter:
    status: Optional[str] = "open"       # None: every status
    language: Optional[str] = None
    platform: Optional[str] = None
    min_severity: float = 0.0
    flagged_only: bool = False
    limit: int = 50
    after: Optional[int] = None          # keyset paging: the id of the last post of the previous page
    sort: str = "urgency"                # urgency, age (oldest first) or reach (biggest audience first)
    search: str = ""                     # words in the text or the author's name (monitor/search.py)
    tag: Optional[str] = None
    assigned_to: Optional[str] = None    # a person's name or a team
    proposals: bool = False              # only posts whose newest draft is a person's proposal


@dataclass
class QueueItem:
    id: int
    platform: str
    kind: str
    language: Optional[str]
    author: str
    reach: int
    text: str
    severity: float
    flagged: bool
    status: str
    summary: str
    topic: str
    strategy: str
    draft_id: Optional[int]
    created_at: datetime
    due_at: Optional[datetime]
    overdue: bool
    waiting_minutes: int
    claimed_by: Optional[str]
    outbox_state: Optional[str]
    outbox_error: Optional[str]
    likes: int = 0
    assigned_to: Optional[str] = None
    tags: list[str] = field(default_factory=list)
    proposed_by: Optional[str] = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    strategy_no_reply: bool = False

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass
class PostDetail:
    post: dict[str, Any]
    thread: list[dict[str, Any]]
    assessment: Optional[dict[str, Any]]
    draft: Optional[dict[str, Any]]
    decisions: list[dict[str, Any]]
    outbox: Optional[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    # What this post answers, oldest first: the shop's own post (when the platform gave its text)
    # and the comments up the reply chain. Never the unrelated comments of other people.
    context: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _row(model: Any) -> dict[str, Any]:
    return _plain(model.model_dump())


OVERDUE_BOOST = 0.2
# Drafts that recommend no public reply: spam or a steering attempt (do_not_reply), a post not
# for us such as news or a repost (monitor).
NO_REPLY_STRATEGIES = ("do_not_reply", "monitor")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
THREAD_PAGE = 20
EVENTS_SHOWN = 200


def list_queue(session: Session, filters: QueueFilter, now: Optional[datetime] = None) -> list[QueueItem]:
    """One page of the queue in urgency order, read from the indexes (never the whole queue).

    Urgency is severity, plus `OVERDUE_BOOST` for an open post past its due time. Because the
    boost depends on the clock, the matching posts are read as segments that each have one
    constant boost (open and overdue; everything else), each walked in index order (severity
    desc, created_at, id) for at most one page, and the segments are merged here. `after` is the
    id of the last post of the previous page (keyset paging): its urgency, computed now, is where
    the next page starts, so paging costs the same on page 1 and page 10,000."""
    now = now or utcnow()
    limit = max(1, min(filters.limit, MAX_PAGE_SIZE))
    if filters.sort in SORTS and filters.sort != "urgency":
        return _items(session, _sorted_page(session, filters, limit), now)
    anchor = _anchor(session, filters, filters.after, now) if filters.after is not None else None
    parts = []
    for number, (where, boost, few) in enumerate(_segments(filters, now)):
        query = select(Post.id, Post.severity, Post.created_at, literal(number).label("segment")) \
            .where(*where, *_filter_clauses(filters, session, few))
        if anchor is not None:
            query = query.where(*_after_clauses(anchor, boost, few))
        # A few rows (not yet due) are found through (status, due_at) and sorted; `+ 0.0` keeps the
        # planner from walking the whole severity index to find them.
        severity = col(Post.severity) + 0.0 if few else col(Post.severity)
        parts.append(select(query.order_by(severity.desc(), col(Post.created_at), col(Post.id)).limit(limit).subquery()))
    boosts = [boost for _, boost, _ in _segments(filters, now)]
    rows = session.execute(union_all(*parts) if len(parts) > 1 else parts[0]).all()   # one round trip
    keys = sorted(((severity + boosts[segment], as_utc(created), post_id) for post_id, severity, created, segment in rows),
                  key=lambda key: (-key[0], key[1], key[2]))
    ids = [post_id for _, _, post_id in keys[:limit]]
    posts = {post.id: post for post in session.exec(select(Post).where(col(Post.id).in_(ids)))} if ids else {}
    return _items(session, [posts[i] for i in ids if i in posts], now)


COUNT_CAP = 1_000


def count_queue(session: Session, filters: QueueFilter, cap: Optional[int] = COUNT_CAP) -> int:
    """How many posts match the filters (one COUNT in the database). With `cap`, counting stops
    at cap + 1 ("more than 1,000"): a filter the indexes cannot answer alone (language) then
    costs a bounded number of row reads instead of one per open post."""
    query = select(Post.id).where(*_filter_clauses(filters, session))
    if filters.status:
        query = query.where(Post.status == filters.status)
    if cap is not None:
        query = query.limit(cap + 1)
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def urgency(post: Post, now: datetime) -> float:
    return post.severity + (OVERDUE_BOOST if _overdue(post, now) else 0.0)


def _overdue(post: Post, now: datetime) -> bool:
    return post.status == "open" and post.due_at is not None and as_utc(post.due_at) < now


class unindexed(FunctionElement):
    """A timestamp column the planner must not pick an index for (SQLite's unary `+`; PostgreSQL
    plans by statistics and gets the plain column). The overdue segment is most of the open
    queue: walked in severity order it needs one page of rows, a due_at range would sort all."""

    type = UTCDateTime()
    inherit_cache = True


class unindexed_text(unindexed):
    """`unindexed` for a text column (a `few` segment's channel or language filter)."""

    type = AutoString()
    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(list(element.clauses)[0], **kw)


def _segments(filters: QueueFilter, now: datetime) -> list[tuple[tuple[Any, ...], float, bool]]:
    """(conditions, boost, few) per segment. The big segments are walked in the order of an index
    (ix_post_queue, ix_post_queue_platform, ix_post_rank); the open posts not yet due are `few`
    (those that arrived within one answer target) and come from ix_post_status_due."""
    is_open = Post.status == PostStatus.open.value
    overdue = ((is_open, unindexed(col(Post.due_at)) < now), OVERDUE_BOOST, False)
    not_yet_due = [((is_open, col(Post.due_at) >= now), 0.0, True), ((is_open, col(Post.due_at).is_(None)), 0.0, True)]
    if filters.status == PostStatus.open.value:
        return [overdue, *not_yet_due]
    if filters.status:
        return [((Post.status == filters.status,), 0.0, False)]
    return [overdue, *not_yet_due, ((Post.status != PostStatus.open.value,), 0.0, False)]


def _filter_clauses(filters: QueueFilter, session: Session, few: bool = False) -> list[Any]:
    """The filters; in a `few` segment channel and language must not steer the planner away
    from (status, due_at)."""
    hide = unindexed_text if few else (lambda column: column)
    clauses: list[Any] = [col(Post.erased_at).is_(None)]     # erased posts (GDPR) are in no queue
    if filters.language:
        clauses.append(hide(col(Post.language)) == filters.language)
    if filters.platform:
        clauses.append(hide(col(Post.platform)) == filters.platform)
    if filters.min_severity:
        clauses.append(col(Post.severity) >= filters.min_severity)
    if filters.flagged_only:
        clauses.append(col(Post.flagged).is_(True))
    if filters.tag:
        clauses.append(col(Post.tags).contains(f" {filters.tag} "))
    if filters.assigned_to:
        clauses.append(Post.assigned_to == filters.assigned_to)
    if filters.proposals:
        clauses.append(col(Post.proposed_by).is_not(None))
    if filters.search.strip():
        from monitor.search import matching_clause
        found = matching_clause(session, filters.search)
        if found is not None:
            clauses.append(found)
    return clauses


SORTS = ("urgency", "age", "reach")


def _sorted_page(session: Session, filters: QueueFilter, limit: int) -> list[Post]:
    """One page sorted by age (oldest first) or reach (biggest audience first), keyset-paged
    on (created_at, id) or (author_reach desc, id) like the urgency order."""
    query = select(Post).where(*_filter_clauses(filters, session))
    if filters.status:
        query = query.where(Post.status == filters.status)
    anchor = session.get(Post, filters.after) if filters.after is not None else None
    if filters.sort == "age":
        if anchor is not None:
            query = query.where(or_(col(Post.created_at) > anchor.created_at,
                                    and_(col(Post.created_at) == anchor.created_at, col(Post.id) > anchor.id)))
        query = query.order_by(col(Post.created_at), col(Post.id))
    else:
        if anchor is not None:
            query = query.where(or_(col(Post.author_reach) < anchor.author_reach,
                                    and_(col(Post.author_reach) == anchor.author_reach, col(Post.id) > anchor.id)))
        query = query.order_by(col(Post.author_reach).desc(), col(Post.id))
    return list(session.exec(query.limit(limit)))


@dataclass(frozen=True)
class _Anchor:
    urgency: float
    created_at: datetime
    id: int


def _anchor(session: Session, filters: QueueFilter, post_id: int, now: datetime) -> _Anchor:
    """Where the page after post `post_id` starts. In the open queue a post decided since the
    page was read keeps the place it had while open, so "next" is the post that followed it."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"no post with id {post_id}")
    counts_as_open = post.status == PostStatus.open or filters.status == PostStatus.open.value
    boosted = filters.status in (None, PostStatus.open.value) and counts_as_open \
        and post.due_at is not None and as_utc(post.due_at) < now
    return _Anchor(post.severity + (OVERDUE_BOOST if boosted else 0.0), as_utc(post.created_at), post.id)


def _after_clauses(anchor: _Anchor, boost: float, few: bool = False) -> list[Any]:
    """Rows of a segment (urgency = severity + boost) that sort after the anchor. The plain
    `severity <=` bound lets the index seek; the exact test uses the same float sum as Python.
    A `few` segment keeps to its due_at index: no bound, and `+ 0.0` hides severity's index."""
    urgency = col(Post.severity) + boost if boost or few else col(Post.severity)
    bound = [] if few else [col(Post.severity) <= anchor.urgency - boost + 1e-9]
    return [*bound,
            or_(urgency < anchor.urgency,
                and_(urgency == anchor.urgency,
                     or_(col(Post.created_at) > anchor.created_at,
                         and_(col(Post.created_at) == anchor.created_at, col(Post.id) > anchor.id))))]


def _items(session: Session, posts: list[Post], now: datetime) -> list[QueueItem]:
    ids = [p.id for p in posts]
    drafts = _latest_by_post(session, Draft, ids)
    outbox = {row.post_id: row for row in session.exec(select(OutboxReply).where(col(OutboxReply.post_id).in_(ids)))} if ids else {}
    summaries = _latest_by_post(session, Assessment, ids)
    items = []
    for post in posts:
        draft, assessment, reply = drafts.get(post.id), summaries.get(post.id), outbox.get(post.id)
        claimed = post.claimed_by if post.claimed_until and as_utc(post.claimed_until) > now else None
        items.append(QueueItem(
            id=post.id, platform=post.platform, kind=post.kind, language=post.language, author=post.author_handle,
            reach=post.author_reach, text=post.text, severity=post.severity, flagged=post.flagged, status=post.status,
            summary=assessment.summary if assessment else "", topic=draft.topic if draft else "",
            strategy=draft.strategy if draft else "", draft_id=draft.id if draft else None, created_at=post.created_at, due_at=post.due_at,
            overdue=_overdue(post, now), waiting_minutes=int((now - as_utc(post.created_at)).total_seconds() // 60),
            claimed_by=claimed, outbox_state=reply.state if reply else None,
            outbox_error=reply.last_error if reply else None, likes=post.likes, assigned_to=post.assigned_to,
            tags=post.tags.split(), proposed_by=post.proposed_by, flags=list(assessment.flags) if assessment else [],
            strategy_no_reply=bool(draft and draft.strategy in NO_REPLY_STRATEGIES)))
    return items


def _latest_by_post(session: Session, model: Any, ids: list[int]) -> dict[int, Any]:
    """The newest row of `model` (Draft, Assessment) for each post id: one query, newest only."""
    if not ids:
        return {}
    newest = select(func.max(model.id)).where(col(model.post_id).in_(ids)).group_by(model.post_id)
    return {row.post_id: row for row in session.exec(select(model).where(col(model.id).in_(newest)))}


CHAIN_DEPTH = 5


def reply_chain(session: Session, post: Post) -> list[dict[str, Any]]:
    """The posts `post` answers, oldest first: its parents (stored posts, up to `CHAIN_DEPTH`), and
    the shop's own post at the top when the connector passed its text (extra.thread_text)."""
    chain: list[dict[str, Any]] = []
    parent_id, seen = post.parent_id, {post.external_id}
    while parent_id and parent_id not in seen and len(chain) < CHAIN_DEPTH:
        seen.add(parent_id)
        parent = session.exec(select(Post).where(Post.platform == post.platform, Post.external_id == parent_id)).first()
        if parent is None:
            break
        chain.append({"who": parent.author_handle, "own": False, "text": parent.text, "created_at": parent.created_at,
                      "id": parent.id})
        parent_id = parent.parent_id
    own = (post.extra or {}).get("thread_text")
    if own and post.thread_id and post.thread_id != post.external_id:
        chain.append({"who": "", "own": True, "text": str(own), "created_at": None, "id": None})
    chain.reverse()
    return _plain(chain)


def show_post(session: Session, post_id: int, *, thread_after: Optional[int] = None,
              thread_limit: int = THREAD_PAGE) -> PostDetail:
    """A post with its context. The thread is paged (oldest first, `thread_after` = the last
    thread post's id) and the audit trail keeps the newest `EVENTS_SHOWN` events, so a viral
    thread or a much-handled post costs the same as a quiet one."""
    post = get_post(session, post_id)
    thread: list[Post] = []
    if post.thread_id:
        query = select(Post).where(Post.platform == post.platform, Post.thread_id == post.thread_id, Post.id != post.id)
        if thread_after is not None:
            previous = session.get(Post, thread_after)
            if previous is not None:
                created = previous.created_at
                query = query.where(or_(col(Post.created_at) > created,
                                        and_(col(Post.created_at) == created, col(Post.id) > previous.id)))
        limit = max(1, min(thread_limit, MAX_PAGE_SIZE))
        thread = list(session.exec(query.order_by(col(Post.created_at), col(Post.id)).limit(limit)))
    assessment = session.exec(select(Assessment).where(Assessment.post_id == post_id)
                              .order_by(col(Assessment.id).desc()).limit(1)).first()
    draft = latest_draft(session, post_id)
    decisions = list(session.exec(select(Decision).where(Decision.post_id == post_id).order_by(col(Decision.id))))
    reply = session.exec(select(OutboxReply).where(OutboxReply.post_id == post_id)).first()
    events = list(session.exec(select(AuditEvent).where(AuditEvent.post_id == post_id)
                               .order_by(col(AuditEvent.id).desc()).limit(EVENTS_SHOWN)))
    events.reverse()
    return PostDetail(post=_row(post), context=reply_chain(session, post), thread=[_row(p) for p in thread], assessment=_row(assessment) if assessment else None,
                      draft=_row(draft) if draft else None, decisions=[_row(d) for d in decisions],
                      outbox=_row(reply) if reply else None, events=[_row(e) for e in events])
