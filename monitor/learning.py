"""Learning from approvers: every edited approval kept against its draft, phrasebook variants
proposed from edits that recur, and saved replies an approver can pick.

Nothing here changes a draft by itself: `propose` only lists sentences approvers keep writing
for a topic and language; a person accepts one (`accept`), which appends it to the shop's own
phrasings (`[drafting] phrases_dir`, file `learned/<lang>.toml`), and the next drafts may use it.
The CLI (`monitor drafts learn`, `monitor saved ...`, `monitor approve ID --saved NAME`) and the
web app call these functions.
"""
from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from sqlmodel import Session, col, select

from models import Decision, Draft, DraftEdit, SavedReply
from monitor.errors import MonitorError

_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
SIGNATURE = "\n– "
MIN_REPEATS = 2
# Where an added sentence most likely belongs, by the draft sentence it replaced.
SLOTS = ("apologise", "restate", "solution", "fact", "regret", "check", "holding_when", "answer", "calm_open", "thanks")


class LearningError(MonitorError):
    """A proposal, a saved reply or a phrasings folder that cannot be used; the message says why."""

    exit_code = 2


def sentences(text: str) -> list[str]:
    body = (text or "").split(SIGNATURE)[0]
    return [s.strip() for s in _SENTENCE.split(body) if s.strip()]


def record_edit(session: Session, decision: Decision, draft: Optional[Draft]) -> Optional[DraftEdit]:
    """Keep an approved text that differs from the draft it was made from (called by approve)."""
    if draft is None or decision.final_text is None:
        return None
    before, after = sentences(draft.text), sentences(decision.final_text)
    if before == after:
        return None
    diff = "\n".join(difflib.unified_diff(before, after, "draft", "approved", lineterm="", n=0))
    removed = [s for s in before if s not in after]
    added = [s for s in after if s not in before]
    edit = DraftEdit(decision_id=decision.id, post_id=decision.post_id, draft_id=draft.id, language=draft.language,
                     topic=draft.topic, strategy=draft.strategy, draft_text=draft.text,
                     final_text=decision.final_text, diff=diff, removed=removed, added=added, actor=decision.actor)
    session.add(edit)
    session.flush()
    return edit


@dataclass
class Proposal:
    """A sentence approvers added for one topic and language, at least `count` times."""

    id: str
    language: str
    topic: str
    slot: str
    sentence: str
    count: int
    replaced: list[str] = field(default_factory=list)    # draft sentences it stood in for

    def as_dict(self) -> dict:
        return {"id": self.id, "language": self.language, "topic": self.topic, "slot": self.slot,
                "sentence": self.sentence, "count": self.count, "replaced": self.replaced}


def _normal(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.lower()))


def _slot_of(replaced: Sequence[str], draft_slots: dict[str, str]) -> str:
    for sentence in replaced:
        if sentence in draft_slots:
            return draft_slots[sentence]
    return "solution"


def propose(session: Session, *, min_repeats: int = MIN_REPEATS, phrase_slots=None) -> list[Proposal]:
    """Sentences added in at least `min_repeats` edits of the same topic and language.

    `phrase_slots(language, topic)` -> {sentence: slot} says which slot a replaced draft sentence
    came from (from the phrasebook); without it a proposal goes to the solution slot."""
    groups: dict[tuple[str, str, str], list[tuple[str, list[str]]]] = defaultdict(list)
    for edit in session.exec(select(DraftEdit).order_by(col(DraftEdit.id))):
        for sentence in edit.added or ():
            groups[(edit.language or "", edit.topic, _normal(sentence))].append((sentence, list(edit.removed or ())))
    proposals = []
    for (language, topic, key), uses in groups.items():
        if len(uses) < min_repeats or not key:
            continue
        sentence = max((s for s, _ in uses), key=lambda s: sum(1 for t, _ in uses if t == s))
        replaced = sorted({r for _, removed in uses for r in removed})
        slots = phrase_slots(language, topic) if phrase_slots else {}
        ident = hashlib.sha1(f"{language}|{topic}|{key}".encode()).hexdigest()[:8]
        proposals.append(Proposal(ident, language, topic, _slot_of(replaced, slots), sentence, len(uses), replaced))
    return sorted(proposals, key=lambda p: (-p.count, p.language, p.topic, p.sentence))


def accept(session: Session, proposal_id: str, phrases_dir: Optional[str], *, voice: str = "formal",
           min_repeats: int = MIN_REPEATS, phrase_slots=None, slot: Optional[str] = None) -> Path:
    """Append a proposed sentence to `<phrases_dir>/learned/<language>.toml`; returns the file."""
    if not phrases_dir:
        raise LearningError("set [drafting] phrases_dir to a folder for the shop's own phrasings first")
    found = [p for p in propose(session, min_repeats=min_repeats, phrase_slots=phrase_slots) if p.id == proposal_id]
    if not found:
        raise LearningError(f"no proposal {proposal_id!r} (list them with `monitor drafts learn`)")
    proposal = found[0]
    if slot is not None and slot not in SLOTS:
        raise LearningError(f"unknown slot {slot!r}; one of {', '.join(SLOTS)}")
    if "{" in proposal.sentence or "}" in proposal.sentence:
        raise LearningError("the sentence contains braces, which phrasings use for the shop's facts")
    folder = Path(phrases_dir).expanduser() / "learned"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{proposal.language or 'en'}.toml"
    table = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    section = table.setdefault(voice, {}).setdefault(proposal.topic or "shared", {})
    variants = section.setdefault(slot or proposal.slot, [])
    if proposal.sentence not in variants:
        variants.append(proposal.sentence)
    path.write_text(_dump(table), "utf-8")
    return path


def _dump(table: dict) -> str:
    """TOML for {voice: {topic: {slot: [str]}}} (the only shape learned phrasings have)."""
    lines = ["# Phrasings accepted from approvers' edits (monitor drafts learn --accept). Edit freely."]
    for voice, topics in table.items():
        for topic, slots in topics.items():
            lines.append(f"\n[{voice}.{topic}]")
            for slot, variants in slots.items():
                quoted = ", ".join(_quote(v) for v in variants)
                lines.append(f"{slot} = [{quoted}]")
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ------------------------------------------------------------------ saved replies


def save_reply(session: Session, name: str, text: str, *, language: Optional[str] = None, topic: str = "",
               actor: str = "") -> SavedReply:
    name = (name or "").strip()
    if not re.fullmatch(r"[\w.-]{1,64}", name):
        raise LearningError("a saved reply's name is 1-64 letters, digits, '.', '-' or '_'")
    if not (text or "").strip():
        raise LearningError("a saved reply needs a text")
    existing = session.exec(select(SavedReply).where(SavedReply.name == name)).first()
    reply = existing or SavedReply(name=name, text=text)
    reply.text, reply.language, reply.topic, reply.created_by = text.strip(), language, topic, actor
    session.add(reply)
    session.flush()
    return reply


def saved_replies(session: Session, *, language: Optional[str] = None, topic: Optional[str] = None) -> list[SavedReply]:
    query = select(SavedReply).order_by(col(SavedReply.name))
    replies = list(session.exec(query))
    return [r for r in replies if (language is None or r.language in (None, "", language))
            and (topic is None or r.topic in ("", topic))]


def saved_reply(session: Session, name: str) -> SavedReply:
    reply = session.exec(select(SavedReply).where(SavedReply.name == name)).first()
    if reply is None:
        raise LearningError(f"no saved reply named {name!r} (list them with `monitor saved list`)")
    return reply


def delete_saved(session: Session, name: str) -> None:
    session.delete(saved_reply(session, name))
    session.flush()
