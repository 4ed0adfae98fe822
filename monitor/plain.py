"""Plain language for people who answer customers, not for the people who built the model:
"Critical: legal threat (UOKiK), 41 likes, 10 h late" instead of a raw severity and flag codes,
and "escalated to legal" instead of `decision.escalate`. The model's own figures stay one click
away in the web app (and in `monitor show --json`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Optional

from models import as_utc

# Flag code -> what a colleague calls it. Codes not listed (new lexicon signals) show their reason.
REASONS = {
    "legal_threat": "legal threat", "authority": "consumer authority", "fraud": "fraud accusation",
    "health_safety": "health or safety", "boycott": "boycott call", "media": "press involved",
    "data_leak": "data leak", "insult": "abusive", "manipulation": "tries to steer the reply tool",
    "anger": "angry", "negative": "unhappy", "negative_sentence": "unhappy", "rating": "low rating",
    "reach": "big audience",
}
# Shown first: the reasons that decide who must look at it.
ORDER = ("legal_threat", "authority", "health_safety", "data_leak", "fraud", "media", "boycott", "insult",
         "manipulation", "rating", "anger", "negative", "negative_sentence", "reach")
WITH_EVIDENCE = {"legal_threat", "authority", "fraud", "health_safety", "boycott", "media", "data_leak"}


def level(severity: float, flagged: bool, critical: float) -> str:
    if severity >= critical:
        return "Critical"
    if flagged:
        return "Needs care"
    return "Routine"


def reasons(flags: Iterable[dict[str, Any]], most: int = 2) -> list[str]:
    """The main reasons, most decisive first, each once: "legal threat (UOKiK)"."""
    ranked = sorted(flags, key=lambda f: ORDER.index(f.get("code")) if f.get("code") in ORDER else len(ORDER))
    out: list[str] = []
    for flag in ranked:
        code = str(flag.get("code") or "")
        label = REASONS.get(code) or str(flag.get("reason") or code).split(":")[0]
        if code in WITH_EVIDENCE:
            evidence = flag.get("evidence") or ()
            first = evidence if isinstance(evidence, str) else (evidence[0] if evidence else "")
            if first:
                label += f" ({str(first)[:30]})"
        if code == "rating" and flag.get("evidence"):
            label = f"rated {str(flag['evidence'][0]).split('/')[0]}★"
        if label not in out and not any(o.startswith(label) for o in out):
            out.append(label)
    return out[:most]


def lateness(due_at: Any, status: str, now: datetime) -> Optional[str]:
    if status != "open" or not due_at:
        return None
    due = as_utc(datetime.fromisoformat(due_at) if isinstance(due_at, str) else due_at)
    minutes = int((now - due).total_seconds() // 60)
    return f"{_span(minutes)} late" if minutes > 0 else f"due in {_span(-minutes)}"


def _span(minutes: int) -> str:
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


def urgency(*, severity: float, flagged: bool, flags: Iterable[dict[str, Any]], likes: int, due_at: Any,
            status: str, now: datetime, critical: float) -> str:
    """One line a colleague reads at a glance: "Critical: legal threat (UOKiK), 41 likes, 10 h late"."""
    parts = reasons(flags) if flagged or severity >= critical else []
    if likes:
        parts.append(f"{likes} like{'' if likes == 1 else 's'}")
    late = lateness(due_at, status, now)
    if late:
        parts.append(late)
    head = level(severity, flagged, critical)
    return f"{head}: {', '.join(parts)}" if parts else head


# Audit actions -> a sentence fragment; details fill in the rest (see `event_text`).
ACTIONS = {
    "decision.approve": "approved the reply", "decision.reject": "closed it without a reply",
    "decision.escalate": "escalated it", "draft.propose": "proposed a reply",
    "decision.second_approver_requested": "asked a second approver to look",
    "post.assign": "assigned it", "post.note": "noted", "post.tag": "changed tags", "post.close": "closed it",
    "post.changed": "saw the text change on the platform", "outbox.sent": "posted the reply",
    "outbox.retry": "sent the reply again", "outbox.resolve": "recorded the reply as posted",
    "outbox.cancel": "withdrew the reply", "privacy.forget": "erased the author's data",
    "outbox.sending": "started posting the reply", "outbox.failed": "saw the platform refuse the reply",
    "outbox.uncertain": "could not tell whether the reply went out", "outbox.needs_person": "left the reply for a person",
    "outbox.late_result": "heard late from the platform", "privacy.retention": "erased it (retention)",
}


def event_text(action: str, details: dict[str, Any]) -> str:
    """A history line without raw codes: "escalated it to legal: asks for a refund"."""
    text = ACTIONS.get(action) or action.split(".")[-1].replace("_", " ")
    if details.get("escalate_to"):
        text += f" to {details['escalate_to']}"
    if action == "post.assign" and details.get("assigned_to"):
        text = f"assigned it to {details['assigned_to']}"
    if action == "post.tag":
        changes = [f"+{t}" for t in details.get("added") or []] + [f"−{t}" for t in details.get("removed") or []]
        text = f"tagged {' '.join(changes)}" if changes else text
    if action == "post.note" and details.get("note"):
        text += f": {details['note']}"
    elif details.get("reason"):
        text += f": {details['reason']}"
    if details.get("override_reason"):
        text += f" (over the safety check: {details['override_reason']})"
    return text
