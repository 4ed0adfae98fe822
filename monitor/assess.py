"""The analysis stage: every post whose content changed since its last assessment is assessed
again, in batches (the analyser batches its model calls).

Several workers share the stage on PostgreSQL: each claims its batch with `FOR UPDATE SKIP
LOCKED` in the transaction that stores the assessments, so a post is encoded and assessed by
one worker only; a worker that dies mid-batch loses its transaction, the rows unlock and the
next worker takes them. (SQLite runs one daemon and ignores the clause.)"""
from __future__ import annotations

from sqlmodel import Session, col, select

from dataclasses import replace
from typing import Optional

from models import Assessment, Post
from models.enums import PostStatus
from monitor.analysis.audience import AudienceRules, audience_flag
from monitor.analysis.base import Analyser, PostView


def post_view(post: Post) -> PostView:
    return PostView(text=post.text, platform=post.platform, kind=post.kind, author_handle=post.author_handle,
                    author_reach=post.author_reach, likes=post.likes, shares=post.shares, replies=post.replies,
                    rating=post.rating)


def flag_codes(flags: list[dict]) -> str:
    """The codes of an assessment's flags as stored on the post (" fraud legal_threat "): the
    dashboard counts flagged posts per reason with one GROUP BY instead of reading assessments."""
    codes = sorted({str(flag.get("code") or "other") for flag in flags})
    return " " + " ".join(codes) + " " if codes else ""


def claim_posts_needing_assessment(session: Session, limit: int) -> list[Post]:
    """Up to `limit` posts to assess, locked for this transaction; posts another worker is
    assessing right now are skipped (and, once it commits, no longer need assessment)."""
    return list(session.exec(select(Post).where(col(Post.analysed_hash) != col(Post.content_hash))
                             .order_by(col(Post.id)).limit(limit).with_for_update(skip_locked=True)))


def assess_batch(session: Session, analyser: Analyser, posts: list[Post],
                 audience: Optional[AudienceRules] = None) -> list[Assessment]:
    """Assess `posts` in the caller's transaction; updates each post's language/severity/flag.

    With `audience` rules, a post that is not for us carries a `not_for_us` flag (the drafter
    suggests no reply) and is never flagged; the shop's own posts leave the queue."""
    analyses = analyser.assess([post_view(post) for post in posts])
    assessments = []
    for post, analysis in zip(posts, analyses, strict=True):
        kind = audience.classify(post.text, post.author_handle) if audience else None
        if kind is not None and not kind.for_us:
            analysis = replace(analysis, flags=(*analysis.flags, audience_flag(kind)), flagged=False)
            if kind.kind == "own" and post.status == PostStatus.open:
                post.status = PostStatus.own
        assessment = Assessment(post_id=post.id, model_version=analysis.model_version, language=analysis.language,
                                sentiment=analysis.sentiment, scores=dict(analysis.scores),
                                flags=[flag.as_dict() for flag in analysis.flags],
                                severity=round(float(analysis.severity), 4), flagged=analysis.flagged,
                                summary=analysis.summary)
        session.add(assessment)
        post.language = analysis.language
        post.severity = assessment.severity
        post.flagged = analysis.flagged
        post.flag_codes = flag_codes(assessment.flags)
        post.analysed_hash = post.content_hash
        session.add(post)
        assessments.append(assessment)
    session.flush()
    return assessments
