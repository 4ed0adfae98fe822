"""Post approved replies, at most once.

Each reply is claimed with a conditional UPDATE (pending -> sending) committed *before* the
platform is called, so two workers never send the same row. A call that may have reached the
platform (timeout, crash, unknown error) leaves the row `uncertain`; it is only ever resolved by
asking the platform whether the brand already replied (`find_reply`), never by sending again
blindly. When the platform cannot tell, the row waits for a person (`needs_person`).
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Collection, Optional

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from connectors._reconcile import ReplyUnclear
from connectors._scrub import scrub
from connectors.base import AuthExpired, Connector, ConnectorError, PostRejected, RateLimited, ReplyTarget
from models import OutboxReply, OutboxState, Post, PostStatus, Source, as_utc, utcnow
from monitor import audit
from monitor.db import Database
from monitor.errors import Conflict, NotFound

log = logging.getLogger(__name__)
# A `sending` row older than this belongs to a dead worker. It must outlast the slowest platform
# call (connectors cap connect + read timeouts well below it), or a live call could be judged dead.
STALE_SENDING = timedelta(minutes=20)


class ConnectorUnavailable(Exception):
    """No connector can be built for the post's source (not configured, bad settings)."""


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)          # outbox ids
    reconciled: list[int] = field(default_factory=list)    # found already on the platform
    failed: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)
    needs_person: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)      # rate limit / credentials: tried again later
    errors: dict[int, str] = field(default_factory=dict)


def target_of(post: Post) -> ReplyTarget:
    return ReplyTarget(external_id=post.external_id, kind=post.kind, thread_id=post.thread_id,
                       parent_id=post.parent_id, extra=dict(post.extra or {}))


def _claim(db: Database, outbox_id: int, from_state: OutboxState, worker: str) -> bool:
    """Atomically move one row to `sending`; False if another worker got there first."""
    with db.session() as session:
        changed = session.execute(update(OutboxReply)
                                  .where(col(OutboxReply.id) == outbox_id, col(OutboxReply.state) == from_state.value)
                                  .values(state=OutboxState.sending.value, worker=worker, sending_since=utcnow(),
                                          attempts=OutboxReply.attempts + 1, updated_at=utcnow()))
        return changed.rowcount == 1


def _finish(db: Database, outbox_id: int, state: OutboxState, *, worker: str, actor: str,
            error: Optional[str] = None, reply_id: Optional[str] = None, how: str = "") -> bool:
    """Record the outcome of a call this worker made, only if the row is still its `sending` row.

    A call that outlived STALE_SENDING may find its row already reconciled by another worker;
    its late result is then kept in the audit log and never overwrites what is known."""
    now = utcnow()
    values: dict = dict(state=state.value, updated_at=now, worker=None, sending_since=None)
    if error:
        values["last_error"] = error[:2000]
    elif state == OutboxState.sent:
        values["last_error"] = None
    if reply_id is not None:
        values.update(external_reply_id=reply_id, sent_at=now)
    with db.session() as session:
        changed = session.execute(update(OutboxReply).where(
            col(OutboxReply.id) == outbox_id, col(OutboxReply.state) == OutboxState.sending.value,
            col(OutboxReply.worker) == worker).values(**values))
        row = session.get(OutboxReply, outbox_id)
        if changed.rowcount != 1:
            log.warning("reply %s to post %s: late result %s ignored; the row is %s now", outbox_id, row.post_id,
                        state.value, row.state)
            audit.record(session, actor, "outbox.late_result", row.post_id, outbox_id=outbox_id, result=state.value,
                         reply_id=reply_id, error=error, state_now=row.state)
            return False
        post = session.get(Post, row.post_id)
        if reply_id is not None:
            post.status = PostStatus.posted.value
            session.add(post)
        audit.record(session, actor, f"outbox.{state.value}", row.post_id, outbox_id=outbox_id, reply_id=reply_id,
                     error=error, how=how or None)
        source = session.get(Source, post.source_id) if post.source_id else None
    where = _where(source.name if source else None, post.platform)
    _log_outcome(f"reply {outbox_id} to post {row.post_id} ({where})", state, error=error, reply_id=reply_id, how=how)
    return True


def _where(source: Optional[str], platform: str) -> str:
    return f"{source}, {platform}" if source else platform


def _log_outcome(reply: str, state: OutboxState, *, error: Optional[str], reply_id: Optional[str], how: str) -> None:
    """One line per outcome: what happened to which post, and why."""
    if state == OutboxState.sent:
        log.info("%s: %s %s", reply, "reconciled: already on the platform as" if how == "reconciled" else "sent as",
                 reply_id)
    elif state == OutboxState.pending:
        log.info("%s: %s", reply, f"deferred: {error}" if error else how or "pending again")
    else:
        log.warning("%s: %s: %s", reply, state.value, error or how)


def _this_machine() -> str:
    """Host name plus PID namespace: two containers sharing a host name never mistake each
    other's process ids for their own."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace}"


def worker_identity(name: Optional[str] = None) -> str:
    """"[name@]host/pidns:pid": who claims an outbox row or a source lease. Rows of a worker named
    this way are released at once when its process is gone (see `worker_gone`)."""
    return f"{name + '@' if name else ''}{_this_machine()}:{os.getpid()}"


def readable_worker(worker: Optional[str]) -> str:
    """A worker identity as people read it ("name@host:pid"): the PID namespace, which only
    tells machines apart, left out."""
    if not worker:
        return "nobody"
    head, _, pid = worker.rpartition(":")
    return f"{head.split('/', 1)[0]}:{pid}" if head else worker


def worker_gone(worker: Optional[str]) -> bool:
    """True only when `worker` (see `worker_identity`) was a process on this machine, in this PID
    namespace, that no longer exists. Any other worker counts as alive (its rows wait for the
    timeout instead): a wrong "gone" could send a reply twice, a wrong "alive" only waits."""
    if not worker:
        return False
    machine, _, pid = worker.rsplit("@", 1)[-1].rpartition(":")
    if machine != _this_machine() or not pid.isdigit() or int(pid) in (0, os.getpid()):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else
        return False
    return False


def mark_stale_sending(db: Database, now: Optional[datetime] = None) -> int:
    """Rows left `sending` by a dead worker become `uncertain` (they may have been posted): at
    once when that worker was a process on this machine that is gone, else after STALE_SENDING."""
    cutoff = (now or utcnow()) - STALE_SENDING
    with db.session() as session:
        workers = set(session.exec(select(OutboxReply.worker).where(
            col(OutboxReply.state) == OutboxState.sending.value)))
        gone = sorted(w for w in workers if worker_gone(w))
        stale = (col(OutboxReply.state) == OutboxState.sending.value,
                 or_(col(OutboxReply.sending_since).is_(None), col(OutboxReply.sending_since) < cutoff,
                     col(OutboxReply.worker).in_(gone)))
        rows = list(session.exec(
            select(OutboxReply.id, OutboxReply.post_id, OutboxReply.worker, Source.name, Post.platform)
            .join(Post, col(Post.id) == col(OutboxReply.post_id))
            .outerjoin(Source, col(Source.id) == col(Post.source_id)).where(*stale)))
        if not rows:
            return 0
        changed = session.execute(update(OutboxReply)
                                  .where(col(OutboxReply.id).in_([r[0] for r in rows]), *stale)
                                  .values(state=OutboxState.uncertain.value, updated_at=utcnow(),
                                          last_error="the worker stopped while posting; checking the platform before anything else"))
    for outbox_id, post_id, worker, source, platform in rows:
        log.warning("reply %s to post %s (%s): uncertain: %s stopped while posting it; the platform is checked "
                    "before anything else", outbox_id, post_id, _where(source, platform), readable_worker(worker))
    return changed.rowcount


def send_approved(db: Database, connector_for: Callable[[Post], Connector], worker: str, *, limit: int = 100,
                  actor: str = "poster", skip_sources: Collection[int] = ()) -> SendReport:
    """Reconcile uncertain replies, then send pending ones. Safe to run concurrently.

    `skip_sources`: source ids whose replies wait this time (the daemon's platforms that said
    "not before T"), so they neither call the platform nor hold up the replies behind them."""
    report = SendReport()
    mark_stale_sending(db)
    with db.session() as session:
        query = select(OutboxReply.id, OutboxReply.state).where(
            col(OutboxReply.state).in_([OutboxState.uncertain.value, OutboxState.pending.value]))
        if skip_sources:
            query = query.join(Post, col(Post.id) == col(OutboxReply.post_id)).where(
                or_(col(Post.source_id).is_(None), col(Post.source_id).not_in(list(skip_sources))))
        rows = list(session.exec(query.order_by(col(OutboxReply.id)).limit(limit)))
    for outbox_id, state in rows:
        if state == OutboxState.uncertain.value:
            _reconcile(db, outbox_id, connector_for, worker, report, actor)
        else:
            _send(db, outbox_id, connector_for, worker, report, actor)
    return report


def _load(db: Database, outbox_id: int) -> tuple[OutboxReply, Post]:
    with db.session() as session:
        row = session.get(OutboxReply, outbox_id)
        return row, session.get(Post, row.post_id)


def _connector_or_defer(db, outbox_id: int, post: Post, connector_for, report: SendReport) -> Optional[Connector]:
    """The post's connector; None (reply deferred, reason noted on it) when it cannot be built."""
    try:
        return connector_for(post)
    except ConnectorUnavailable as exc:
        log.warning("reply %s to post %s (%s): deferred: %s", outbox_id, post.id, post.platform, exc)
        report.deferred.append(outbox_id)
        report.errors[outbox_id] = str(exc)
        _note_error(db, outbox_id, str(exc))
        return None


def _send(db, outbox_id, connector_for, worker, report: SendReport, actor: str) -> None:
    row, post = _load(db, outbox_id)
    connector = _connector_or_defer(db, outbox_id, post, connector_for, report)
    if connector is None:
        return
    if not _claim(db, outbox_id, OutboxState.pending, worker):
        return  # another worker has it
    try:
        reply_id = connector.reply(target_of(post), row.text)
    except (RateLimited, AuthExpired) as exc:  # refused before anything was posted: try later
        _finish(db, outbox_id, OutboxState.pending, worker=worker, actor=actor, error=str(exc))
        report.deferred.append(outbox_id)
        report.errors[outbox_id] = str(exc)
    except PostRejected as exc:
        _finish(db, outbox_id, OutboxState.failed, worker=worker, actor=actor, error=str(exc))
        report.failed.append(outbox_id)
        report.errors[outbox_id] = str(exc)
    except Exception as exc:  # timeout, connection reset, bug: it may have been posted
        message = str(exc) if isinstance(exc, ConnectorError) else scrub(f"{type(exc).__name__}: {exc}")
        _finish(db, outbox_id, OutboxState.uncertain, worker=worker, actor=actor, error=message)
        report.uncertain.append(outbox_id)
        report.errors[outbox_id] = message
    else:
        _finish(db, outbox_id, OutboxState.sent, worker=worker, actor=actor, reply_id=str(reply_id))
        report.sent.append(outbox_id)


def _reconcile(db, outbox_id, connector_for, worker, report: SendReport, actor: str) -> None:
    row, post = _load(db, outbox_id)
    connector = _connector_or_defer(db, outbox_id, post, connector_for, report)
    if connector is None:
        return
    if not _claim(db, outbox_id, OutboxState.uncertain, worker):
        return
    try:
        existing = connector.find_reply(replace(target_of(post), approved_at=as_utc(row.created_at)), row.text)
    except Exception as exc:  # ReplyUnclear: the platform cannot tell; anything else: we could not ask
        message = (f"{exc}; a person must look" if isinstance(exc, ReplyUnclear) else
                   f"could not check the platform for an earlier reply ({exc}); a person must look")
        _finish(db, outbox_id, OutboxState.needs_person, worker=worker, actor=actor, error=message)
        report.needs_person.append(outbox_id)
        report.errors[outbox_id] = message
        return
    if existing:
        _finish(db, outbox_id, OutboxState.sent, worker=worker, actor=actor, reply_id=str(existing), how="reconciled")
        report.reconciled.append(outbox_id)
    else:  # the platform confirms nothing was posted: sending now is not a blind retry
        if _finish(db, outbox_id, OutboxState.pending, worker=worker, actor=actor, how="platform has no reply; will send"):
            _send(db, outbox_id, connector_for, worker, report, actor)


def _note_error(db: Database, outbox_id: int, error: str) -> None:
    with db.session() as session:
        row = session.get(OutboxReply, outbox_id)
        row.last_error, row.updated_at = error[:2000], utcnow()
        session.add(row)


# ---- what a person does with a reply the machine could not settle --------------------------------
NEEDS_A_PERSON = (OutboxState.failed.value, OutboxState.needs_person.value)


def _person_changes(db: Database, outbox_id: int, allowed: Collection[str], actor: str, action: str,
                    **details: object) -> None:
    with db.session() as session:
        row = session.get(OutboxReply, outbox_id)
        if row is None:
            raise NotFound(f"no reply with id {outbox_id} in the outbox")
        if row.state not in allowed:
            raise Conflict(f"reply {outbox_id} is {row.state}; this needs one that is {' or '.join(allowed)}")
        audit.record(session, actor, f"outbox.{action}", row.post_id, outbox_id=outbox_id, was=row.state, **details)
        log.info("reply %s to post %s: %s by %s (was %s)%s", outbox_id, row.post_id, action, actor, row.state,
                 "".join(f"; {key}: {value}" for key, value in details.items()))


def retry(db: Database, outbox_id: int, actor: str) -> None:
    """The person checked the platform: the reply is not there, send it again."""
    _person_changes(db, outbox_id, NEEDS_A_PERSON, actor, "retry")
    _set_state(db, outbox_id, OutboxState.pending)


def resolve_posted(db: Database, outbox_id: int, actor: str, reply_id: str) -> None:
    """The person found the reply on the platform: record it as sent (never send it again)."""
    if not reply_id.strip():
        raise Conflict("give the platform's id of the reply you found")
    allowed = (*NEEDS_A_PERSON, OutboxState.uncertain.value)
    _person_changes(db, outbox_id, allowed, actor, "resolved", reply_id=reply_id)
    with db.session() as session:
        row = session.get(OutboxReply, outbox_id)
        row.state, row.external_reply_id, row.sent_at, row.updated_at = OutboxState.sent.value, reply_id.strip(), utcnow(), utcnow()
        session.get(Post, row.post_id).status = PostStatus.posted.value


def cancel(db: Database, outbox_id: int, actor: str, reason: str) -> None:
    """Withdraw a reply that was never posted; the post is open again for a new decision."""
    if not reason.strip():
        raise Conflict("a cancellation needs a reason")
    _person_changes(db, outbox_id, NEEDS_A_PERSON, actor, "cancel", reason=reason.strip())
    with db.session() as session:
        row = session.get(OutboxReply, outbox_id)
        row.state, row.updated_at = OutboxState.cancelled.value, utcnow()
        session.get(Post, row.post_id).status = PostStatus.open.value


def _set_state(db: Database, outbox_id: int, state: OutboxState) -> None:
    with db.session() as session:
        row = session.get(OutboxReply, outbox_id)
        row.state, row.updated_at = state.value, utcnow()


def list_outbox(db: Database, states: Collection[str] = (), *, limit: Optional[int] = None,
                newest_first: bool = False, after: Optional[int] = None) -> list[dict]:
    """Outbox rows (in a state, newest or oldest first, at most `limit`), each with the post's
    platform and author so a person can tell which reply it is. `after` is the id of the last
    row of the previous page (keyset paging in the chosen order)."""
    with db.session() as session:
        order = col(OutboxReply.id).desc() if newest_first else col(OutboxReply.id)
        query = select(OutboxReply, Post.platform, Post.author_handle).join(Post, col(Post.id) == OutboxReply.post_id).order_by(order)
        if after is not None:
            query = query.where(col(OutboxReply.id) < after if newest_first else col(OutboxReply.id) > after)
        if states:
            query = query.where(col(OutboxReply.state).in_(list(states)))
        if limit is not None:
            query = query.limit(limit)
        return [{**row.model_dump(), "platform": platform, "author": author}
                for row, platform, author in session.exec(query)]


def count_by_state(db: Database, states: Collection[str] = ()) -> dict[str, int]:
    """Replies per state (only `states` when given: an index lookup instead of a full count)."""
    with db.session() as session:
        query = select(OutboxReply.state, func.count()).group_by(OutboxReply.state)
        if states:
            query = query.where(col(OutboxReply.state).in_(list(states)))
        return {state: count for state, count in session.exec(query)}
