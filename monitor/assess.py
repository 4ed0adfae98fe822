"""The analysis stage: every post whose content changed since its last assessment is assessed
again, in batches (the analyser batches its model calls)."""
from __future__ import annotations

from sqlmodel import Session, col, select

from models import Assessment, Post
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


def posts_needing_assessment(session: Session, limit: int) -> list[Post]:
    return list(session.exec(select(Post).where(col(Post.analysed_hash) != col(Post.content_hash))
                             .order_by(col(Post.id)).limit(limit)))


def assess_batch(session: Session, analyser: Analyser, posts: list[Post]) -> list[Assessment]:
    """Assess `posts` in the caller's transaction; updates each post's language/severity/flag."""
    analyses = analyser.assess([post_view(post) for post in posts])
    assessments = []
    for post, analysis in zip(posts, analyses, strict=True):
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
