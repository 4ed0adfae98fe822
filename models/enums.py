"""Closed vocabularies stored as plain strings (readable in SQL, portable across databases)."""
from enum import StrEnum


class PostKind(StrEnum):
    comment = "comment"
    reply = "reply"
    mention = "mention"
    review = "review"


class PostStatus(StrEnum):
    """Where a post stands in the queue. Every post is answered (guideline 4), so all start open."""

    open = "open"              # waiting for a person
    approved = "approved"      # a person approved a reply; it sits in the outbox
    posted = "posted"          # the reply is on the platform
    rejected = "rejected"      # a person decided not to answer with this draft
    escalated = "escalated"    # handed to legal or another team; no public reply from the queue
    erased = "erased"          # erased on request or by retention (monitor/privacy.py); out of every queue
    own = "own"                # posted by the shop's own account ([shop] handles): never queued, never answered


class DecisionAction(StrEnum):
    approve = "approve"
    reject = "reject"
    escalate = "escalate"


class OutboxState(StrEnum):
    """At-most-once posting: `sending` is written *before* the platform call."""

    pending = "pending"        # approved, not yet tried
    sending = "sending"        # a worker is calling the platform right now (or died doing so)
    sent = "sent"              # the platform returned the reply's id
    uncertain = "uncertain"    # the call may or may not have reached the platform: reconcile first
    failed = "failed"          # the platform refused it for sure (nothing was posted); a person decides
    needs_person = "needs_person"  # reconciliation could not tell; never retried automatically
    cancelled = "cancelled"    # a person withdrew it (never posted); the post is open again


class QuarantineState(StrEnum):
    """An unreadable item kept for a person."""

    waiting = "waiting"        # not stored as a post; counted on the sources page
    stored = "stored"          # a retry read it and stored the post
    dropped = "dropped"        # a person decided it is not worth keeping


class Role(StrEnum):
    agent = "agent"
    approver = "approver"
    admin = "admin"
