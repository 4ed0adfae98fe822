"""A person decides: approve (as drafted or edited), reject, escalate, or propose an edit.

This is the approval gate. Only `approve` creates an outbox entry, it stores exactly the text
that will be posted, and it refuses a text with public-safety findings unless the person gives
an override reason (which the audit log keeps). Both the CLI and the web app come through here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Collection, Optional

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.tables import answer_figures
from models import Decision, DecisionAction, Draft, OutboxReply, OutboxState, Post, PostStatus, Role, as_utc, utcnow
from monitor import audit
from monitor.drafting.base import SafetyChecker, SafetyContext
from monitor.errors import Conflict, Forbidden, NeedsOverride, NeedsSecondApprover, NotFound, TooLong
MAX_REPLY_CHARS = 10_000
MAX_REASON_CHARS = 2_000      # reasons, notes and override reasons: the audit log keeps them forever
MAX_TEAM_CHARS = 60
DECIDABLE = (PostStatus.open, PostStatus.escalated)
# Findings no override can wave through: the platform would refuse the reply anyway.
NOT_OVERRIDABLE = ("length", "empty")


def reply_text(text: str) -> str:
    """The reply exactly as the person wrote it: only line endings and outer white space are
    normalised. It is never cut or cleaned silently; what the check dislikes becomes a finding."""
    value = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > MAX_REPLY_CHARS:
        raise Conflict(f"the reply has {len(value)} characters; at most {MAX_REPLY_CHARS} are accepted")
    return value


def limited(value: Optional[str], what: str, most: int = MAX_REASON_CHARS) -> Optional[str]:
    """`value` stripped, refused when longer than `most` characters (never cut silently)."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > most:
        raise TooLong(f"the {what} has {len(value)} characters; at most {most} are accepted")
    return value


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role = Role.admin   # the local CLI operator; the web app passes the signed-in user's role

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"{self.name} is {self.role.value}; this needs the role {' or '.join(r.value for r in roles)}")


def get_post(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(f"no post with id {post_id}")
    return post


def latest_draft(session: Session, post_id: int) -> Optional[Draft]:
    return session.exec(select(Draft).where(Draft.post_id == post_id).order_by(col(Draft.id).desc())).first()


def _ensure_free(post: Post, actor: Actor, now: datetime) -> None:
    if post.claimed_by and post.claimed_by != actor.name and post.claimed_until and as_utc(post.claimed_until) > now:
        raise Conflict(f"{post.claimed_by} is working on post {post.id}; try again when they are done")


def _ensure_open(post: Post) -> None:
    if post.status not in DECIDABLE:
        raise Conflict(f"post {post.id} is already {post.status}")


def approve(session: Session, post_id: int, actor: Actor, checker: SafetyChecker, context: SafetyContext, *,
            text: Optional[str] = None, draft_id: Optional[int] = None,
            override_reason: Optional[str] = None, four_eyes: Collection[str] = ()) -> Decision:
    """Approve the draft the person read (`draft_id`), or the `text` they wrote. Never "whatever
    the newest draft is": a colleague or the daemon may have replaced it since it was read.

    Four-eyes: a blocking finding whose code is in `four_eyes` may be overridden only by someone
    other than the text's author (the approver when they edited it, else the draft's author);
    the author gets `NeedsSecondApprover` (the service then saves the text as a draft)."""
    actor.require(Role.approver, Role.admin)
    override_reason = limited(override_reason, "override reason")
    now = utcnow()
    post = get_post(session, post_id)
    _ensure_open(post)
    _ensure_free(post, actor, now)
    draft = latest_draft(session, post_id)
    if text is None:
        if draft is None:
            raise Conflict(f"post {post_id} has no draft yet; approve it with a text of your own")
        if draft_id is None:
            raise Conflict(f"say which draft of post {post_id} you approve (draft {draft.id} is the newest), "
                           "or give the text")
        if draft_id != draft.id:
            raise Conflict(f"the draft of post {post_id} changed since you read it (draft {draft_id} -> {draft.id}); "
                           "read it again")
    final = reply_text(text if text is not None else draft.text)
    edited = text is not None and (draft is None or final != draft.text.strip())
    findings = [f.as_dict() for f in checker.check(final, context)]
    if not final:
        findings.append({"code": "empty", "reason": "the reply is empty", "evidence": "", "severity": "block"})
    blocking = [f for f in findings if f.get("severity", "block") == "block"]
    hard = [f for f in blocking if f["code"] in NOT_OVERRIDABLE]
    if hard:
        raise Conflict("; ".join(f"{f['code']}: {f['reason']}" for f in hard) + " (this cannot be overridden)")
    override = (override_reason or "").strip() or None
    if blocking and override is None:
        raise NeedsOverride(blocking)
    author = actor.name if edited else (draft.author if draft else None)
    guarded = [f for f in blocking if f["code"] in four_eyes]
    if guarded and author == actor.name:
        raise NeedsSecondApprover(guarded, actor.name)
    claimed = session.execute(update(Post).where(col(Post.id) == post_id, col(Post.status).in_(list(DECIDABLE)))
                           .values(status=PostStatus.approved.value, answered_at=post.answered_at or now,
                                   proposed_by=None, changed_at=None,
                                   **answer_figures(post.created_at, post.due_at, post.answered_at or now)))
    if claimed.rowcount != 1:
        raise Conflict(f"post {post_id} was decided by someone else a moment ago")
    decision = Decision(post_id=post_id, draft_id=draft.id if draft else None, actor=actor.name,
                        action=DecisionAction.approve.value, final_text=final, findings=findings,
                        override_reason=override if blocking else None)
    session.add(decision)
    session.flush()
    withdrawn = session.exec(select(OutboxReply).where(OutboxReply.post_id == post_id,
                                                       OutboxReply.state == OutboxState.cancelled.value)).first()
    if withdrawn is not None:  # one outbox row per post: a cancelled reply's row takes the new text
        withdrawn.decision_id, withdrawn.text, withdrawn.state = decision.id, final, OutboxState.pending.value
        withdrawn.attempts, withdrawn.last_error, withdrawn.updated_at = 0, None, utcnow()
        session.add(withdrawn)
    else:
        session.add(OutboxReply(post_id=post_id, decision_id=decision.id, text=final))
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"post {post_id} already has an approved reply") from None
    if edited:
        from monitor.learning import record_edit

        record_edit(session, decision, draft)     # kept against its draft: the drafts learn from it
    audit.record(session, actor.name, "decision.approve", post_id, decision_id=decision.id, edited=edited,
                 text=final, findings=[f["code"] for f in findings], override_reason=decision.override_reason,
                 **({"four_eyes": {"author": author, "findings": [f["code"] for f in guarded]}} if guarded else {}))
    session.expire(post)
    return decision


def reject(session: Session, post_id: int, actor: Actor, reason: str) -> Decision:
    actor.require(Role.approver, Role.admin)
    reason = limited(reason, "reason")
    if not reason:
        raise Conflict("a rejection needs a reason")
    return _close(session, post_id, actor, DecisionAction.reject, PostStatus.rejected, reason=reason.strip())


def escalate(session: Session, post_id: int, actor: Actor, to: str, reason: Optional[str] = None) -> Decision:
    """Hand the post to another team (legal, ...). Anyone may escalate; it never posts anything."""
    to, reason = limited(to, "team", MAX_TEAM_CHARS), limited(reason, "note")
    if not to:
        raise Conflict("say whom to escalate to (e.g. --to legal)")
    post = get_post(session, post_id)
    if post.status != PostStatus.open:
        raise Conflict(f"post {post_id} is already {post.status}")
    return _close(session, post_id, actor, DecisionAction.escalate, PostStatus.escalated, reason=reason,
                  escalate_to=to.strip())


def _close(session: Session, post_id: int, actor: Actor, action: DecisionAction, status: PostStatus, *,
           reason: Optional[str], escalate_to: Optional[str] = None) -> Decision:
    now = utcnow()
    post = get_post(session, post_id)
    _ensure_open(post)
    _ensure_free(post, actor, now)
    changed = session.execute(update(Post).where(col(Post.id) == post_id, col(Post.status) == post.status)
                           .values(status=status.value, answered_at=post.answered_at or now,
                                   proposed_by=None, changed_at=None,
                                   **answer_figures(post.created_at, post.due_at, post.answered_at or now)))
    if changed.rowcount != 1:
        raise Conflict(f"post {post_id} was decided by someone else a moment ago")
    draft = latest_draft(session, post_id)
    decision = Decision(post_id=post_id, draft_id=draft.id if draft else None, actor=actor.name, action=action.value,
                        reason=reason, escalate_to=escalate_to)
    session.add(decision)
    session.flush()
    audit.record(session, actor.name, f"decision.{action.value}", post_id, decision_id=decision.id, reason=reason,
                 escalate_to=escalate_to)
    session.expire(post)
    return decision


def propose(session: Session, post_id: int, actor: Actor, text: str, checker: SafetyChecker,
            context: SafetyContext) -> Draft:
    """An agent's edited draft: stored as the newest draft with its findings, for an approver."""
    post = get_post(session, post_id)
    _ensure_open(post)
    _ensure_free(post, actor, utcnow())
    final = reply_text(text)
    previous = latest_draft(session, post_id)
    draft = Draft(post_id=post_id, assessment_id=previous.assessment_id if previous else None, text=final,
                  language=previous.language if previous else post.language, topic=previous.topic if previous else "",
                  strategy=previous.strategy if previous else "edited", escalate_to=previous.escalate_to if previous else None,
                  findings=[f.as_dict() for f in checker.check(final, context)], backend=f"edited by {actor.name}",
                  author=actor.name)
    session.add(draft)
    # The handoff: the proposal waits for an approver (the "proposals" view) and the proposer's
    # lock ends, so an approver can take it at once.
    post.proposed_by = actor.name
    if post.claimed_by == actor.name:
        post.claimed_by, post.claimed_until = None, None
    session.add(post)
    session.flush()
    audit.record(session, actor.name, "draft.propose", post_id, draft_id=draft.id, text=final)
    return draft


def request_second_approver(session: Session, post_id: int, actor: Actor, text: Optional[str],
                            refused: NeedsSecondApprover, checker: SafetyChecker, context: SafetyContext) -> int:
    """The author's side of four-eyes: their text becomes the newest draft (unless it is one
    already) and the audit log says who asked for a second approver on which findings."""
    draft = latest_draft(session, post_id)
    if text is not None and (draft is None or draft.author != actor.name or reply_text(text) != draft.text.strip()):
        draft = propose(session, post_id, actor, text, checker, context)
    assert draft is not None
    audit.record(session, actor.name, "decision.second_approver_requested", post_id, draft_id=draft.id,
                 findings=sorted({str(f["code"]) for f in refused.findings}))
    return draft.id
