"""Reconciliation, one rule for every platform: which of the brand's replies (if any) did an
uncertain post make?

A reply is ours only if it answers the exact target, carries the approved text, comes from the
brand's account and was created after the reply was approved (less `CLOCK_SKEW`, since the
platform's clock is not ours). Anything that might be ours but cannot be told apart, a reply
to the target with other text (someone answered on the platform itself, or the platform
rewrote ours), or a listing cut short before it could show our reply, raises `ReplyUnclear`:
the row then waits for a person. Never a guess either way: a wrong "ours" leaves a customer
unanswered, a wrong "not there" posts twice.

Each connector lists the brand's replies where its own reply would be and says, for each,
whether it answers the target and nothing else (`exact`): X and Reddit name a reply's parent;
Facebook, Instagram and YouTube put the answers to a comment and to its replies under the same
comment, so there only the position in time can tell (see `connectors._reconcile.thread_replies`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional

from connectors.base import ConnectorError, ReplyTarget

log = logging.getLogger(__name__)

# How far the platform's clock may be behind ours. A reply created more than this before the
# approval cannot be the one our post made.
CLOCK_SKEW = timedelta(minutes=5)


class ReplyUnclear(ConnectorError):
    """The platform cannot tell whether the brand's reply there is ours: a person must look."""


@dataclass(frozen=True)
class BrandReply:
    """One reply by the brand's account, where our reply to the target would be."""

    reply_id: str
    text: str
    created: Optional[datetime]     # aware UTC; None when the platform did not say
    exact: bool                     # it answers the target, and could not answer anything else


def same_text(posted: str, approved: str) -> bool:
    """The approved text, as platforms give it back (HTML entities, spacing at the edges and
    between words are theirs to change)."""
    import html  # only when reconciling: the CLI imports this module on every start
    return " ".join(html.unescape(posted).split()) == " ".join(approved.split())


def our_reply(replies: Iterable[BrandReply], text: str, since: Optional[datetime], *,
              complete: bool, where: str) -> Optional[str]:
    """The id of the reply our post made; None when the platform surely has none; `ReplyUnclear`
    when it cannot tell. `since`: when the reply was approved (None: unknown, every reply counts
    as recent). `complete`: every reply that could be ours was listed (none cut off by paging)."""
    floor = since - CLOCK_SKEW if since is not None else None
    ours: list[BrandReply] = []
    doubts: list[str] = []
    for reply in replies:
        recent = floor is None or reply.created is None or reply.created >= floor
        same = same_text(reply.text, text)
        if same and reply.exact and recent:
            ours.append(reply)
        elif same and reply.exact:
            doubts.append(f"the brand's reply {reply.reply_id} with this text is older than the approval")
        elif same and recent:
            doubts.append(f"the brand's reply {reply.reply_id} has this text but may answer another "
                          "comment in the thread (the platform does not say which)")
        elif reply.exact and recent:
            doubts.append(f"the brand's reply {reply.reply_id} answers it with other text")
    if ours:
        ours.sort(key=lambda r: (r.created is None, r.created or datetime.min))
        if len(ours) > 1:
            log.warning("%s: %d replies with the approved text (%s); taking the first", where, len(ours),
                        ", ".join(r.reply_id for r in ours))
        return ours[0].reply_id
    if doubts:
        raise ReplyUnclear(f"{where}: {'; '.join(doubts)}")
    if not complete:
        raise ReplyUnclear(f"{where}: the brand's replies run past the pages read; cannot tell whether ours is among them")
    return None


@dataclass(frozen=True)
class ThreadComment:
    """A comment under the object our reply goes under, as reconciliation needs it."""

    comment_id: str
    text: str
    created: Optional[datetime]
    by_brand: bool
    parent: Optional[str]       # what the platform names as its parent (absent on top-level comments)


def thread_replies(comments: list[ThreadComment], target: ReplyTarget, under: str) -> list[BrandReply]:
    """The brand's replies under `under` (where our reply to `target` went), each marked `exact`
    when it cannot answer anything but the target.

    Graph and YouTube nest one level: our answers to a comment and to each of its replies all
    sit under the comment, with that comment as their parent. So an answer there may be meant for the
    comment (always older than its replies) or for any customer reply older than the answer;
    only an answer older than all of those (other than the target) surely answers the target.
    Under a post sit only the answers to the post itself."""
    children = [c for c in comments if c.parent in (None, under)]
    rivals: list[Optional[datetime]] = []
    if target.kind in ("comment", "reply"):
        rivals = [c.created for c in children if not c.by_brand and c.comment_id != target.external_id]
    if target.external_id != under:
        rivals.append(None)  # the comment itself, older than every reply under it
    return [BrandReply(c.comment_id, c.text, c.created,
                       exact=not any(r is None or c.created is None or r <= c.created for r in rivals))
            for c in children if c.by_brand]
