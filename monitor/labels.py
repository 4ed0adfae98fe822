"""The shop's own word on the flag: explicit labels and the decisions that say the same.

Every decision is evidence about the flag. A person can say it outright (`monitor label ID
--wrong-flag` / `--missed` / `--complaint` / `--not-complaint` / `--spam`, or the web app through
`Monitor.label`), and some decisions say it on the way: a reject as "not a complaint" or
"spam" means the post did not need the flag; an approved reply to an unflagged post that was
not praise means it did. `collect` gathers both (an explicit label wins over a decision, the
newest label over older ones) for `monitor model eval|train --from-decisions`; `uncertain`
lists the open posts the flag is least sure about, for a person to label first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, col, select

from models import Assessment, Decision, DecisionAction, FlagLabel, Post, PostStatus
from monitor import audit
from monitor.decisions import Actor, get_post
from monitor.errors import Conflict

# kind -> should the post have been flagged
KINDS = {"wrong_flag": False, "missed": True, "complaint": True, "not_complaint": False, "spam": False}
# a reject reason that says the post was no complaint (pl/ru/en)
NOT_A_COMPLAINT = re.compile(
    r"not (a )?complaint|no complaint|spam|advert|irrelevant|not for us|nie (jest )?skarg|nie reklamacj|"
    r"reklama\b|не жалоб|спам|реклама", re.I)


@dataclass(frozen=True)
class LabelledPost:
    post_id: int
    text: str
    language: Optional[str]
    should_flag: bool
    kind: str                   # an explicit kind, or "rejected: <reason>" / "approved unflagged post"
    source: str                 # "label" or "decision"
    flagged: bool               # what the flag said
    severity: float
    scores: dict                # the model scores of the newest assessment (negative, anger, ...)


def add_label(session: Session, post_id: int, kind: str, actor: Actor, note: Optional[str] = None) -> FlagLabel:
    """Store a person's label for a post (the newest label of a post is the one that counts)."""
    if kind not in KINDS:
        raise Conflict(f"unknown label {kind!r}; use one of {', '.join(KINDS)}")
    get_post(session, post_id)                     # NotFound for an unknown id
    label = FlagLabel(post_id=post_id, kind=kind, should_flag=KINDS[kind], actor=actor.name,
                      note=(note or "").strip() or None)
    session.add(label)
    session.flush()
    audit.record(session, actor.name, "label", post_id, kind=kind, should_flag=label.should_flag)
    return label


def collect(session: Session) -> list[LabelledPost]:
    """Every post the shop has said something about, with what the flag said of it."""
    posts: dict[int, tuple[bool, str, str]] = {}
    for decision in session.exec(select(Decision).order_by(col(Decision.id))):
        if decision.action == DecisionAction.reject.value and NOT_A_COMPLAINT.search(decision.reason or ""):
            posts[decision.post_id] = (False, f"rejected: {decision.reason}", "decision")
        elif decision.action == DecisionAction.approve.value:
            posts.setdefault(decision.post_id, (True, "approved unflagged post", "decision?"))
    for label in session.exec(select(FlagLabel).order_by(col(FlagLabel.id))):
        posts[label.post_id] = (label.should_flag, label.kind, "label")
    out = []
    for post_id, (should_flag, kind, source) in sorted(posts.items()):
        post = session.get(Post, post_id)
        if post is None:
            continue
        assessment = session.exec(select(Assessment).where(Assessment.post_id == post_id)
                                  .order_by(col(Assessment.id).desc())).first()
        if source == "decision?":
            # an approved reply says the post mattered only if the flag missed it and it was not praise
            if post.flagged or (assessment is not None and assessment.sentiment == "positive"):
                continue
            source = "decision"
        out.append(LabelledPost(post_id, post.text, post.language, should_flag, kind, source, bool(post.flagged),
                                float(post.severity or 0.0), dict(assessment.scores) if assessment else {}))
    return out


def uncertain(session: Session, threshold: float, limit: int = 20) -> list[Post]:
    """Open posts whose severity is nearest the flag threshold and that nobody labelled yet."""
    labelled = select(FlagLabel.post_id)
    candidates = session.exec(select(Post).where(col(Post.status).in_([PostStatus.open.value]),
                                                 col(Post.severity).is_not(None),
                                                 col(Post.id).not_in(labelled))).all()
    return sorted(candidates, key=lambda post: (abs(float(post.severity) - threshold), post.id))[:limit]


def figures(labelled: list[LabelledPost]) -> dict:
    """How the flag did on the shop's own posts: recall of the posts that should be flagged, false alarms."""
    should = [p for p in labelled if p.should_flag]
    should_not = [p for p in labelled if not p.should_flag]
    return {
        "labelled": len(labelled), "should_flag": len(should), "should_not_flag": len(should_not),
        "recall": round(sum(p.flagged for p in should) / len(should), 4) if should else None,
        "false_alarm_rate": round(sum(p.flagged for p in should_not) / len(should_not), 4) if should_not else None,
        "missed": [p.post_id for p in should if not p.flagged][:20],
        "wrong_flags": [p.post_id for p in should_not if p.flagged][:20],
    }
