"""Reply drafting and the public-safety check.

`build_drafter(settings)` gives the configured Drafter (phrasebook, or transformers with the
phrasebook as fallback); `build_safety_checker(settings)` gives the check that every draft and
every edited text goes through before approval. Both raise `SettingsError` for bad settings.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.drafting.base import DraftSuggestion, Drafter, Finding, SafetyChecker, SafetyContext

if TYPE_CHECKING:
    from monitor.settings import Settings

__all__ = ["build_drafter", "build_safety_checker", "DraftSuggestion", "Drafter", "Finding", "SafetyChecker",
           "SafetyContext"]


def build_safety_checker(settings: "Settings") -> SafetyChecker:
    from monitor.drafting.safety import PublicSafetyChecker

    return PublicSafetyChecker(settings.shop)


def build_drafter(settings: "Settings") -> Drafter:
    from monitor.drafting.drafter import PhrasebookDrafter
    from monitor.drafting.phrasebook import PhrasebookError, build_phrasebook
    from monitor.drafting.safety import PublicSafetyChecker
    from monitor.drafting.topics import ALL_TOPICS
    from monitor.settings import SettingsError

    drafting = settings.drafting
    if drafting.backend == "placeholder":
        from monitor.placeholder import PlaceholderDrafter

        return PlaceholderDrafter()
    unknown = [topic for topic in settings.shop.goodwill.topics if topic not in ALL_TOPICS]
    if unknown:
        raise SettingsError("[shop.goodwill] topics", f"unknown topic(s) {', '.join(map(repr, unknown))}; "
                                                      f"known: {', '.join(ALL_TOPICS)}")
    try:
        phrasebook = build_phrasebook(settings.shop, drafting.phrases_dir)
    except PhrasebookError as exc:
        raise SettingsError("[drafting] phrases_dir", str(exc)) from None
    checker = PublicSafetyChecker(settings.shop)
    phrasebook_drafter = PhrasebookDrafter(settings.shop, drafting, phrasebook, checker, _shared_classifier(),
                                           timezone=settings.app.timezone)
    if drafting.backend == "transformers":
        from pathlib import Path

        from monitor.drafting.generator import TransformersDrafter

        model = drafting.model or ""
        if model.startswith(("/", ".", "~")) and not Path(model).expanduser().exists():
            raise SettingsError("[drafting] model", f"no model at {model!r} (models are never downloaded at run time)")

        return TransformersDrafter(phrasebook_drafter, drafting.model or "", drafting)
    return phrasebook_drafter


_CLASSIFIER = None


def _shared_classifier():
    """One topic classifier per process: its example embeddings are computed once."""
    global _CLASSIFIER
    if _CLASSIFIER is None:
        from monitor.drafting.topics import TopicClassifier

        _CLASSIFIER = TopicClassifier()
    return _CLASSIFIER
