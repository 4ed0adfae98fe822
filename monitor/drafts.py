"""The drafting stage: a suggested reply for each open post's newest assessment, with the
public-safety findings on it. A draft is only a suggestion; approval decides what is posted."""
from __future__ import annotations

from sqlmodel import Session

from models import Assessment, Draft, Post
from monitor.analysis.base import Analysis, Flag
from monitor.assess import post_view
from monitor.drafting.base import Drafter


def analysis_of(assessment: Assessment) -> Analysis:
    flags = tuple(Flag(code=f.get("code", ""), reason=f.get("reason", ""), evidence=tuple(f.get("evidence", ())),
                       weight=float(f.get("weight", 0.0))) for f in assessment.flags)
    return Analysis(language=assessment.language, sentiment=assessment.sentiment, scores=dict(assessment.scores),
                    flags=flags, severity=assessment.severity, flagged=assessment.flagged,
                    model_version=assessment.model_version, summary=assessment.summary)


def draft_batch(session: Session, drafter: Drafter, pairs: list[tuple[Post, Assessment]]) -> list[Draft]:
    views = [post_view(post) for post, _ in pairs]
    analyses = [analysis_of(assessment) for _, assessment in pairs]
    suggestions = drafter.draft(views, analyses)
    drafts = []
    for (post, assessment), suggestion in zip(pairs, suggestions, strict=True):
        draft = Draft(post_id=post.id, assessment_id=assessment.id, text=suggestion.text,
                      language=suggestion.language, topic=suggestion.topic, strategy=suggestion.strategy,
                      escalate_to=suggestion.escalate_to, goodwill=suggestion.goodwill,
                      notes=list(suggestion.notes), findings=[f.as_dict() for f in suggestion.findings],
                      backend=suggestion.backend)
        session.add(draft)
        post.proposed_by = None          # a fresh machine draft replaces a person's proposal
        session.add(post)
        drafts.append(draft)
    session.flush()
    return drafts
