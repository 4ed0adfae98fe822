"""The tables. Column meanings are part of the contract between stages; keep them documented."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC now: what every timestamp column holds (sqlmodel's UTCDateTime refuses naive)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A datetime from anywhere (platforms, tests) as aware UTC; naive values are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Source(SQLModel, table=True):
    """A configured place we poll (one account, page, subreddit or review location)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    platform: str
    # Singer-style bookmark: opaque to everyone but the connector; moved only in the
    # transaction that stores what it covers.
    bookmark: Optional[str] = Field(default=None, sa_column=Column(Text))
    enabled: bool = True
    last_poll_at: Optional[datetime] = None      # last attempt, successful or not
    last_success_at: Optional[datetime] = None
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    error_count: int = 0                         # consecutive failures (drives back-off)
    rate_limited_until: Optional[datetime] = None
    needs_reauth: bool = False
    next_poll_at: Optional[datetime] = None
    items_collected: int = 0
    # Daemon leases (PostgreSQL multi-worker): who polls this source, until when.
    lease_owner: Optional[str] = None
    lease_until: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


class SourceStream(SQLModel, table=True):
    """One stream of a source (X mentions, X search, a subreddit's comments, ...): its own
    bookmark and health, so that one failing stream never holds the others back. A source whose
    connector has no streams keeps its bookmark in `Source.bookmark` and has no rows here."""

    __table_args__ = (UniqueConstraint("source_id", "stream", name="uq_sourcestream_source_stream"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    stream: str
    # The stream's bookmark (JSON text, opaque to all but the connector); moved only in the
    # transaction that stores what it covers.
    bookmark: Optional[str] = Field(default=None, sa_column=Column(Text))
    last_poll_at: Optional[datetime] = None
    last_success_at: Optional[datetime] = None   # the stream was last read to its end
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    error_count: int = 0                         # consecutive failed runs of this stream
    items_collected: int = 0


class QuarantinedItem(SQLModel, table=True):
    """An item a connector could not read, kept raw (capped, secrets scrubbed) with the error, so
    that the stream moves past it and a person can look, retry after a fix, or drop it."""

    __table_args__ = (UniqueConstraint("source_id", "digest", name="uq_quarantineditem_source_digest"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    platform: str
    stream: Optional[str] = None
    external_id: Optional[str] = None            # when the item still showed one
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
    payload: str = Field(default="", sa_column=Column(Text, nullable=False))  # JSON, scrubbed, capped
    payload_bytes: int = 0                       # the size before capping
    truncated: bool = False                      # payload was cut: it cannot be re-read
    digest: str                                  # of the whole payload: the same item is held once
    state: str = Field(default="waiting", index=True)   # models.enums.QuarantineState
    seen_count: int = 1                          # how many polls handed it over
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    resolved_at: Optional[datetime] = None
    resolved_by: Optional[str] = None
    post_id: Optional[int] = Field(default=None, foreign_key="post.id")  # stored by a retry


class Post(SQLModel, table=True):
    """A public comment, mention, reply or review addressed to the brand."""

    # The queue reads pages in urgency order straight from these indexes (monitor/queue.py): one
    # per status, one per status and channel, one across statuses; the open posts not yet due come
    # from (status, due_at). The thread and the dashboard's window read theirs.
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_post_platform_external"),
        Index("ix_post_queue", "status", text("severity DESC"), "created_at", "id"),
        Index("ix_post_queue_platform", "status", "platform", text("severity DESC"), "created_at", "id"),
        Index("ix_post_rank", text("severity DESC"), "created_at", "id", "status", "due_at"),
        Index("ix_post_status_due", "status", "due_at"),
        Index("ix_post_filters", "status", "platform", "language", "flagged"),   # the queue's counts, index-only
        Index("ix_post_thread", "platform", "thread_id", "created_at"),
        Index("ix_post_window", "created_at", "platform", "status", "flagged", "flag_codes", "answer_minutes",
              "answered_late", "answered_at", "due_at"),
        Index("ix_post_channel", "status", "platform", "flagged", "due_at", "created_at", "answered_late"),
        Index("ix_post_answer", "platform", "answer_minutes", "answered_late"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: Optional[int] = Field(default=None, foreign_key="source.id", index=True)
    platform: str = Field(index=True)
    external_id: str
    kind: str = "comment"                        # models.enums.PostKind
    url: Optional[str] = None
    author_handle: str = ""
    author_reach: int = 0                        # followers / subscribers, 0 when unknown
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    language: Optional[str] = None               # ISO 639-1, set by analysis
    rating: Optional[int] = None                 # stars for reviews
    thread_id: Optional[str] = None              # conversation / root post on the platform
    parent_id: Optional[str] = None              # what this item answers, if anything
    likes: int = 0
    shares: int = 0
    replies: int = 0
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # platform specifics needed to reply
    created_at: datetime = Field(default_factory=utcnow)     # on the platform
    collected_at: datetime = Field(default_factory=utcnow)   # first seen by us
    updated_at: datetime = Field(default_factory=utcnow)     # last re-collected
    content_hash: str = ""                       # text+metadata hash; analysis reruns when it changes
    analysed_hash: str = ""                      # content_hash the latest assessment was made from
    status: str = Field(default="open", index=True)  # models.enums.PostStatus
    flagged: bool = Field(default=False, index=True)
    flag_codes: str = ""                         # the latest assessment's flag codes, " code code ", for counting per reason
    severity: float = Field(default=0.0, index=True)  # copy of the latest assessment, for ordering
    due_at: Optional[datetime] = Field(default=None, index=True)  # SLA: answer before this
    alerted_at: Optional[datetime] = None        # critical alert sent
    reminded_at: Optional[datetime] = None       # overdue reminder sent
    # Web app soft lock: a colleague is working on this post until claimed_until.
    claimed_by: Optional[str] = None
    claimed_until: Optional[datetime] = None
    assigned_to: Optional[str] = None
    answered_at: Optional[datetime] = None       # first decision that answers it (approve/escalate/reject)
    # GDPR: texts and author erased (monitor/privacy.py); the row stays so the post is never collected anew.
    erased_at: Optional[datetime] = None
    answer_minutes: Optional[int] = None         # whole minutes from created_at to answered_at (kept by `_answered`)
    answered_late: Optional[bool] = None         # answered after due_at (kept by `_answered`)
    # Team inbox (monitor/teamwork.py): tags " praise shipping ", who proposed the newest draft and
    # waits for an approver, and when the text changed on the platform after a decision.
    tags: str = ""
    proposed_by: Optional[str] = Field(default=None, index=True)
    changed_at: Optional[datetime] = None


def answer_figures(created_at: datetime, due_at: Optional[datetime], answered_at: Optional[datetime]) -> dict[str, Any]:
    """A post's first answer as stored for the reports: whole minutes waited, and whether it came
    after the due time. Stored so that answer-time percentiles and SLA breaches are GROUP BYs over
    an index, not date arithmetic over a million rows. Pass to `update(Post).values(**...)`."""
    if answered_at is None:
        return {"answer_minutes": None, "answered_late": None}
    return {"answer_minutes": round((as_utc(answered_at) - as_utc(created_at)).total_seconds() / 60),
            "answered_late": due_at is not None and as_utc(answered_at) > as_utc(due_at)}


@event.listens_for(Post, "before_insert")
@event.listens_for(Post, "before_update")
def _answered(_mapper: Any, _connection: Any, post: Post) -> None:
    for name, value in answer_figures(post.created_at, post.due_at, post.answered_at).items():
        setattr(post, name, value)


class Assessment(SQLModel, table=True):
    """What analysis said about one version of a post; the newest one counts."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    model_version: str = ""
    language: Optional[str] = None
    sentiment: str = "neutral"                   # negative / neutral / positive
    scores: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    # [{"code": "legal_threat", "reason": "threatens court: 'pozew'", "evidence": ["pozew"], "weight": 0.4}]
    flags: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    severity: float = 0.0                        # 0..1
    flagged: bool = False
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))  # one-line human reason


class Draft(SQLModel, table=True):
    """A suggested reply. Never posted by itself: only a Decision's final_text is."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    assessment_id: Optional[int] = Field(default=None, foreign_key="assessment.id")
    created_at: datetime = Field(default_factory=utcnow)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    language: Optional[str] = None
    topic: str = ""
    strategy: str = ""                           # four_step / holding / thanks / answer / calm_once / do_not_reply / escalate
    escalate_to: Optional[str] = None            # e.g. "legal" when the post must go to the legal contact
    goodwill: Optional[str] = None               # gesture suggested under shop policy, marked for the approver
    notes: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # for the approver, never posted
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    backend: str = ""
    author: Optional[str] = None                 # the person who wrote this text (None: the drafter); four-eyes rule


class Decision(SQLModel, table=True):
    """A person's decision on a post. Approve decisions carry the exact text to post."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    draft_id: Optional[int] = Field(default=None, foreign_key="draft.id")
    actor: str
    action: str                                  # models.enums.DecisionAction
    final_text: Optional[str] = Field(default=None, sa_column=Column(Text))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    escalate_to: Optional[str] = None
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    override_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class OutboxReply(SQLModel, table=True):
    """An approved reply waiting to be, or already, posted. One per post: the unique key is the
    database's own guarantee that a post is never answered twice."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", unique=True)
    decision_id: int = Field(foreign_key="decision.id")
    text: str = Field(sa_column=Column(Text, nullable=False))   # exactly the approved text
    state: str = Field(default="pending", index=True)           # models.enums.OutboxState
    external_reply_id: Optional[str] = None
    attempts: int = 0
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None
    worker: Optional[str] = None                 # who set state=sending
    sending_since: Optional[datetime] = None


class AuditEvent(SQLModel, table=True):
    """Append-only record of who did what. Never deleted; only erasure (monitor/privacy.py) blanks
    the texts in `details`, keeping who did what, when."""

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str
    action: str = Field(index=True)              # e.g. decision.approve, outbox.sent, source.poll_failed
    post_id: Optional[int] = Field(default=None, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class User(SQLModel, table=True):
    """A person who signs in to the web app (the CLI uses --as or the configured user)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    password_hash: str
    role: str = "agent"                          # models.enums.Role
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries only `id` (signed); the row decides whether it is
    still valid: sign-out, disabling the user and a password change end it, and it ends by itself
    at `expires_at` however often it is used."""

    id: str = Field(primary_key=True, max_length=64)   # sha256 of the random token the cookie holds
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime                                # absolute: never moved forward
    ended_at: Optional[datetime] = None
    ended_why: Optional[str] = None                     # sign_out, disabled, password, expired
    address: str = ""


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per key ("addr:127.0.0.1", "name:anna"): each failure past the free ones
    doubles the wait before the next attempt for that key is even checked."""

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    last_failure_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: Optional[datetime] = None


class FlagLabel(SQLModel, table=True):
    """A person's word on whether a post should have been flagged: evidence for the flag model.

    Written by `monitor label ID --wrong-flag|--missed|...` (and the web app through the service);
    decisions that say the same (a reject as "not a complaint" or "spam", an approved reply to an
    unflagged post) are read from `decision` when the labels are collected, not copied here.
    The newest label of a post wins.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    kind: str                                    # monitor.labels.KINDS: wrong_flag, missed, complaint, ...
    should_flag: bool
    actor: str
    note: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class DraftEdit(SQLModel, table=True):
    """An approved reply that a person changed: the draft, the final text and the difference.

    The drafts learn from these (`monitor drafts learn`): a sentence approvers write again and
    again for a topic is proposed as a phrasebook variant, for a person to accept."""

    id: Optional[int] = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", unique=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    draft_id: Optional[int] = Field(default=None, foreign_key="draft.id")
    language: Optional[str] = Field(default=None, index=True)
    topic: str = Field(default="", index=True)
    strategy: str = ""
    draft_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    final_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    diff: str = Field(default="", sa_column=Column(Text, nullable=False))   # unified diff, one sentence a line
    removed: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # draft sentences the person dropped
    added: list[str] = Field(default_factory=list, sa_column=Column(JSON))    # sentences the person wrote
    actor: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class SavedReply(SQLModel, table=True):
    """A reply an approver can pick instead of the draft (`monitor approve ID --saved NAME`)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: Optional[str] = None
    topic: str = ""
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
