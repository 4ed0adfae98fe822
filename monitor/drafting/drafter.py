"""The phrasebook drafter: topic -> strategy -> phrasings with the shop's facts -> safety check.

Strategies follow the reply guidelines:
  four_step     complaint: apologise, restate the problem, concrete solution, regret again
  answer        a question the knowledge base answers (delivery times, returns, payment, login)
  holding       the answer needs checking: received, what is checked, when the answer comes
  thanks        praise
  calm_once     abuse, or a complaint with swearing, sarcasm or angry tags: short and calm (no thanks,
                no exclamation), the problem restated when it can be, the next step
  do_not_reply  spam or a manipulation attempt: recommend not answering
  escalate      legal threat or evident fraud: the legal contact takes over; neutral acknowledgement only
  monitor       not for us (news, a repost, a competitor): no reply suggested

A topic's facts and goodwill appear only when the topic is confident (it wins by a margin and a
keyword cue agrees); otherwise the draft is specific through the customer's own problem,
restated, and honest about nothing else. Answer times come from the clock and `[shop.hours]`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from typing import Callable, Optional, Sequence

from monitor.analysis.audience import AudienceRules, from_flags
from monitor.analysis.base import Analysis, PostView
from monitor.drafting.base import DraftSuggestion, SafetyContext
from monitor.drafting.clock import answer_time
from monitor.drafting.config import DraftingSettings, ShopSettings
from monitor.drafting.language import detect
from monitor.drafting.phrasebook import Phrasebook, pick
from monitor.drafting.restate import KeyComplaint, key_complaint, restatement
from monitor.drafting.safety import PublicSafetyChecker, blocking
from monitor.drafting.tone import angry_cue, is_question
from monitor.drafting.topics import ALL_TOPICS, ESCALATE_TOPICS, OTHER, TopicClassifier, TopicGuess

COMPLAINT_TOPICS = ("delivery_late", "parcel_damaged", "wrong_item", "return_refund", "payment", "account_login",
                    "product_defect", "order_cancelled", "charged_wrong", "support_unreachable", "courier_behaviour", OTHER)
ANSWER_TOPICS = ("delivery_late", "return_refund", "payment", "account_login")
ESCALATE_MIN_SCORE = 0.40   # topic-only escalation needs this similarity (or a legal/fraud keyword)
ESCALATION_FLAGS = ("legal_threat", "legal", "fraud", "authority", "court")
NEGATIVE_FLAGS = ("negative", "anger", "complaint", "boycott", "safety")
FALLBACK_LANGUAGE = "en"
_LINK = re.compile(r"https?://|www\.", re.I)

# Per strategy: (slot, optional-drop rank or None when the slot is required). Optional slots are
# dropped in rank order when the reply is over the platform's length limit.
LAYOUTS: dict[str, tuple[tuple[str, Optional[int]], ...]] = {
    "four_step": (("greeting", 1), ("apologise", None), ("restate", None), ("solution", None), ("fact", 2),
                  ("goodwill", 4), ("regret", None)),
    "calm_complaint": (("calm_open", None), ("restate", None), ("solution", None)),
    "noted": (("greeting", 1), ("noted", None)),
    "answer": (("greeting", 1), ("answer_opener", 3), ("answer", None), ("answer_closer", 2)),
    "holding": (("greeting", 1), ("holding_opener", None), ("check", None), ("holding_when", None)),
    "thanks": (("thanks", None), ("closer", 2)),
    "calm_once": (("calm", None),),
    "escalate": (("ack", None),),
    "do_not_reply": (),
    "monitor": (),
}
STEP_SLOTS = ("apologise", "restate", "solution", "regret")   # the four steps of a complaint reply


@dataclass
class Composition:
    """A composed reply and the slots it was built from (the tests check the four steps with it)."""

    language: str                        # the language the draft is written in
    topic: str
    strategy: str
    parts: list[tuple[str, str]] = field(default_factory=list)
    post_language: Optional[str] = None  # the post's (differs only where no phrasings exist)
    goodwill: Optional[str] = None
    notes: list[str] = field(default_factory=list)
    escalate_to: Optional[str] = None

    @property
    def text(self) -> str:
        body = " ".join(text for slot, text in self.parts if slot != "signature" and text)
        signature = next((text for slot, text in self.parts if slot == "signature"), "")
        return f"{body}\n– {signature}" if body and signature else body


def post_language(post: PostView, analysis: Optional[Analysis]) -> Optional[str]:
    """The post's language: the analysis says, else the post record, else our own detection."""
    return (analysis.language if analysis and analysis.language else None) or post.language or detect(post.text)


class PhrasebookDrafter:
    backend = "phrasebook"

    def __init__(self, shop: ShopSettings, drafting: DraftingSettings, phrasebook: Phrasebook,
                 checker: PublicSafetyChecker, classifier: TopicClassifier, *, timezone: Optional[str] = None,
                 clock: Optional[Callable[[], datetime]] = None, audience: Optional[AudienceRules] = None):
        self.shop = shop
        self.drafting = drafting
        self.phrasebook = phrasebook
        self.checker = checker
        self.classifier = classifier
        self.timezone = timezone
        self.clock = clock or (lambda: datetime.now(dt_timezone.utc))
        self.audience = audience or AudienceRules.from_shop(shop)
        lex = checker.lexicon
        parts = [p.pattern for p in (lex.insults, lex.sarcasm, lex.injection) if p is not None]
        self._unsafe = re.compile("|".join(f"(?:{p})" for p in parts), re.I) if parts else None

    # -- the Drafter protocol

    def draft(self, posts: Sequence[PostView], analyses: Sequence[Analysis]) -> list[DraftSuggestion]:
        compositions = self.compose_all(posts, analyses)
        return [self.suggest(post, composition) for post, composition in zip(posts, compositions)]

    def suggest(self, post: PostView, composition: Composition, backend: Optional[str] = None) -> DraftSuggestion:
        text = composition.text
        language = composition.post_language or composition.language
        findings = tuple(self.checker.check(text, self.context(post, language))) if text else ()
        return DraftSuggestion(text=text, language=language, topic=composition.topic,
                               strategy=composition.strategy, findings=findings, escalate_to=composition.escalate_to,
                               goodwill=composition.goodwill, notes=tuple(composition.notes),
                               backend=backend or self.backend)

    def context(self, post: PostView, language: Optional[str]) -> SafetyContext:
        return SafetyContext(post_text=post.text, post_language=language, platform=post.platform,
                             author_handle=post.author_handle)

    # -- composing

    def compose_all(self, posts: Sequence[PostView], analyses: Sequence[Analysis]) -> list[Composition]:
        if len(posts) != len(analyses):
            raise ValueError(f"{len(posts)} posts but {len(analyses)} analyses")
        guesses: list[Optional[TopicGuess]] = [None] * len(posts)
        unknown = [i for i, a in enumerate(analyses) if not (a and a.topic in ALL_TOPICS)]
        for index, guess in zip(unknown, self.classifier.classify([posts[i].text or "" for i in unknown])):
            guesses[index] = guess
        out = []
        for post, analysis, guess in zip(posts, analyses, guesses):
            topic = analysis.topic if guess is None else guess.topic
            if self.classifier.spam_cue(post.text or ""):
                topic = "abuse"
            elif guess is not None and not guess.confident:
                topic = OTHER          # no margin or no cue: no topic facts, no goodwill
            out.append(self.compose(post, analysis, topic, guess))
        return out

    def compose(self, post: PostView, analysis: Optional[Analysis], topic: str,
                guess: Optional[TopicGuess] = None) -> Composition:
        language = post_language(post, analysis)
        notes: list[str] = []
        if guess is not None and topic != OTHER:
            notes.append(f"Topic: {topic} (similarity {guess.score:.2f}, {guess.margin:.2f} ahead of {guess.runner_up}; "
                         f"cue: {', '.join(repr(c) for c in guess.cues[:2]) or 'none'}).")
        elif guess is not None and guess.nearest:
            notes.append(f"Topic unsure (nearest: {guess.nearest}, similarity {guess.score:.2f}, {guess.margin:.2f} ahead "
                         f"of {guess.runner_up}; {'no keyword cue' if not guess.cues else 'too close to call'}): the draft "
                         "states no topic facts and offers no gesture.")
        if not self.phrasebook.has_language(language):
            notes.append(f"No phrasings for language '{language or 'unknown'}': drafted in English; translate it "
                         "before approving.")
            draft_language = FALLBACK_LANGUAGE
        else:
            draft_language = language
        audience = from_flags(analysis.flags if analysis else ()) or self.audience.classify(post.text or "",
                                                                                            post.author_handle)
        if not audience.for_us:
            notes.append(f"Not for us: {audience.reason}. Monitor it; no reply suggested.")
            return Composition(language=draft_language, topic=topic, strategy="monitor", notes=notes,
                               post_language=language)
        kind, escalation = self._escalation(post, analysis, topic)
        complaint = None if escalation else key_complaint(post.text or "", draft_language, self._unsafe)
        negative = self._negative(post, analysis) or (complaint is not None and complaint.score >= 2.0)
        angry = angry_cue(post.text or "", self.checker.lexicon, negative=negative)
        strategy = self._strategy(post, analysis, topic, escalation, complaint, angry)
        if topic == "praise" and strategy != "thanks":
            topic = OTHER                      # "thanks for nothing" is not praise
        composition = Composition(language=draft_language, topic=topic, strategy=strategy, notes=notes,
                                  post_language=language)
        if escalation:
            composition.escalate_to = "legal"
            notes.append(f"Escalate to legal ({self.shop.legal_contact}): {escalation}. Only a neutral "
                         "acknowledgement is drafted; do not discuss the case in public.")
        if strategy == "do_not_reply":
            notes.append("Recommendation: do not reply. The post is spam or tries to manipulate the reply "
                         "(links, instructions); answering only spreads it.")
            return composition
        if strategy == "calm_once":
            notes.append(f"Calm reply ({angry or 'abusive post'}): short, no thanks, no exclamation; not replying "
                         "is also fine when there is no actual problem.")
        if complaint is not None and strategy in ("four_step", "calm_once"):
            notes.append(f"Restates the customer's words: \"{complaint.clause}\".")
        facts = dict(self.phrasebook.facts(draft_language))
        facts["answer_time"] = answer_time(self.clock(), self.shop.hours, draft_language, self.timezone)
        if strategy == "holding" and topic == OTHER:
            notes.append("Topic unclear: check whether the post needs an answer at all.")
        if strategy in ("holding", "four_step", "calm_once"):
            notes.append(f"The draft promises an answer {facts['answer_time']} (from the clock and opening hours); "
                         "answer in time.")
        phrase_topic = kind if strategy == "escalate" else topic
        self._fill(composition, post, analysis, phrase_topic, facts, complaint)
        return composition

    def _escalation(self, post: PostView, analysis: Optional[Analysis],
                    topic: str) -> tuple[Optional[str], Optional[str]]:
        """(legal_threat | fraud, why) when the legal contact must take over, else (None, None)."""
        if topic in ESCALATE_TOPICS:
            return topic, ("legal threat" if topic == "legal_threat" else "fraud accusation or attempt")
        for flag in (analysis.flags if analysis else ()):
            if flag.code in ESCALATION_FLAGS:
                return ("fraud" if flag.code == "fraud" else "legal_threat"), (flag.reason or flag.code)
        hits = self.classifier.cue_hits(post.text or "")
        for cue_topic, label in (("legal_threat", "mentions legal steps"), ("fraud", "mentions fraud")):
            if cue_topic in hits:
                return cue_topic, f"{label}: {', '.join(repr(h) for h in hits[cue_topic][:3])}"
        return None, None

    def _negative(self, post: PostView, analysis: Optional[Analysis]) -> bool:
        if post.rating is not None and post.rating <= 2:
            return True
        if analysis is None:
            return False
        return analysis.sentiment == "negative" or any(flag.code in NEGATIVE_FLAGS for flag in analysis.flags)

    def _strategy(self, post: PostView, analysis: Optional[Analysis], topic: str, escalation: Optional[str],
                  complaint: Optional[KeyComplaint] = None, angry: Optional[str] = None) -> str:
        if escalation:
            return "escalate"
        text = post.text or ""
        negative = self._negative(post, analysis) or (complaint is not None and complaint.score >= 2.0)
        if topic == "abuse":
            injection = self.checker.lexicon.injection
            if (injection and injection.search(text)) or _LINK.search(text) or self.classifier.spam_cue(text):
                return "do_not_reply"
            return "calm_once"
        if topic == "praise" and not negative and not angry:
            return "thanks"
        if negative or topic == "praise":
            return "calm_once" if angry else "four_step"
        if topic in ANSWER_TOPICS and is_question(text):
            return "answer"
        return "holding"

    def _fill(self, composition: Composition, post: PostView, analysis: Optional[Analysis], topic: str,
              facts: Optional[dict] = None, complaint: Optional[KeyComplaint] = None) -> None:
        book, language = self.phrasebook, composition.language
        voice = self.drafting.address
        facts = facts if facts is not None else book.facts(language)
        seed = post.text or ""
        strategy = composition.strategy
        if strategy == "calm_once" and complaint is None and topic == "abuse":
            layout = LAYOUTS["calm_once"]
        elif strategy == "calm_once":
            layout = LAYOUTS["calm_complaint"]
        elif strategy == "holding" and not is_question(seed):
            layout = LAYOUTS["noted"]          # nothing was asked: say it reached the team, promise nothing
        else:
            layout = LAYOUTS[strategy]
        chosen: list[tuple[str, list[str], Optional[int]]] = []
        gesture = self._gesture(composition, analysis, seed)
        for slot, drop_rank in layout:
            if slot == "goodwill":
                if not gesture:
                    continue
                options = book.options(language, voice, topic, f"goodwill_{gesture}")
            elif slot == "restate" and complaint is not None:
                templates = {"said": book.options(language, voice, "shared", "restate_said"),
                             "quoted": book.options(language, voice, "shared", "restate_quoted")}
                said = restatement(complaint, templates, seed)
                if said and blocking(self.checker.check(book.render(said, facts), SafetyContext(post_text=seed))):
                    composition.notes.append("The customer's words were not said back: the check objects to them.")
                    said = ""
                # the customer's words first; the topic's own lines are the shorter fallback for tight limits
                options = ([said] if said else []) + book.options(language, voice, topic, slot)
            elif slot == "fact" and topic == OTHER:
                continue
            else:
                options = book.options(language, voice, topic, slot)
            options = [book.render(option, facts) for option in options]
            if not options or (slot == "greeting" and post.platform == "x"):
                continue
            chosen.append((slot, options, drop_rank))
        parts = [(slot, options[0] if slot == "restate" and complaint is not None else pick(options, seed, slot))
                 for slot, options, _ in chosen]
        emoji = self._emoji(composition.strategy, language, voice, seed)
        signature = self.drafting.signature.strip()
        composition.parts = self._fit(parts, chosen, emoji, signature, post, composition)
        if any(slot == "goodwill" for slot, _ in composition.parts):
            sentence = next(text for slot, text in composition.parts if slot == "goodwill")
            composition.goodwill = self._gesture_label(gesture)
            composition.notes.append(f"Goodwill gesture suggested ({composition.goodwill}, allowed by the shop's policy): "
                                     f"\"{sentence}\" Keep or delete it before approving.")

    def _gesture(self, composition: Composition, analysis: Optional[Analysis], seed: str) -> Optional[str]:
        policy = self.shop.goodwill
        if composition.strategy != "four_step" or composition.topic not in policy.topics or not policy.allowed:
            return None
        if analysis is not None and analysis.severity < policy.min_severity:
            return None
        allowed = [g for g in policy.allowed if g != "discount" or policy.max_discount_percent > 0]
        return pick(allowed, seed, "goodwill") if allowed else None

    def _gesture_label(self, gesture: Optional[str]) -> Optional[str]:
        if gesture == "discount":
            return f"discount {self.shop.goodwill.max_discount_percent}%"
        return gesture.replace("_", " ") if gesture else None

    def _emoji(self, strategy: str, language: str, voice: str, seed: str) -> str:
        if not self.drafting.emoji or strategy not in ("thanks", "answer", "holding"):
            return ""
        options = self.phrasebook.options(language, voice, "shared", "emoji")
        return pick(options, seed, "emoji") if options else ""

    def _fit(self, parts: list[tuple[str, str]], chosen, emoji: str, signature: str, post: PostView,
             composition: Composition) -> list[tuple[str, str]]:
        """Keep the reply within the platform's limit: shortest variants first, then drop optional slots."""

        def assemble(items: list[tuple[str, str]], with_signature: bool = True) -> list[tuple[str, str]]:
            items = list(items)
            if emoji and items:
                slot, text = items[-1]
                items[-1] = (slot, f"{text} {emoji}")
            if signature and with_signature:
                items.append(("signature", signature))
            return items

        limit = self.checker.limit_for(post.platform)

        def fits(items: list[tuple[str, str]]) -> bool:
            probe = Composition(composition.language, composition.topic, composition.strategy, items)
            return limit is None or self.checker.measure(probe.text, post.platform) <= limit

        candidate = assemble(parts)
        if fits(candidate):
            return candidate
        shortest = [(slot, min(options, key=len)) for slot, options, _ in chosen]
        ranks = {slot: rank for slot, _, rank in chosen}
        current = shortest
        dropped = []
        for rank in sorted({r for r in ranks.values() if r is not None}):
            candidate = assemble(current)
            if fits(candidate):
                break
            removed = [slot for slot, _ in current if ranks.get(slot) == rank]
            current = [(slot, text) for slot, text in current if ranks.get(slot) != rank]
            dropped += removed
        candidate = assemble(current)
        if not fits(candidate) and signature:
            candidate = assemble(current, with_signature=False)
            dropped.append("signature")
        if dropped:
            composition.notes.append(f"Shortened for {post.platform} ({limit} characters): left out "
                                     f"{', '.join(dropped)}.")
        return candidate
