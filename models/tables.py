"""The tables. Column meanings are part of the contract between stages; keep them documented."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Text, UniqueConstraint
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


class Post(SQLModel, table=True):
    """A public comment, mention, reply or review addressed to the brand."""

    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_post_platform_external"),)

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
    severity: float = Field(default=0.0, index=True)  # copy of the latest assessment, for ordering
    due_at: Optional[datetime] = Field(default=None, index=True)  # SLA: answer before this
    alerted_at: Optional[datetime] = None        # critical alert sent
    reminded_at: Optional[datetime] = None       # overdue reminder sent
    # Web app soft lock: a colleague is working on this post until claimed_until.
    claimed_by: Optional[str] = None
    claimed_until: Optional[datetime] = None
    assigned_to: Optional[str] = None
    answered_at: Optional[datetime] = None       # first decision that answers it (approve/escalate/reject)


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
    created_at: datetime = Field(default_factory=utcnow)


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
    """Append-only record of who did what. Never updated, never deleted."""

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
