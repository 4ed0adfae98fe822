"""Analysis: language, sentiment, anger, reputation-risk signals and one severity per post.

`build_analyser(settings)` returns the backend named by `[analysis] backend`; every backend
takes a batch of `PostView`s and returns one `Analysis` each (see `base.py`).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.analysis.base import Analyser, Analysis, Flag, PostView
from monitor.errors import SettingsError

if TYPE_CHECKING:
    from monitor.settings import Settings

__all__ = ["Analyser", "Analysis", "Flag", "PostView", "AnalyserError", "build_analyser"]


class AnalyserError(SettingsError):
    """The configured analyser cannot be built; the key names the setting to fix (exit code 2)."""


def build_analyser(settings: "Settings") -> Analyser:
    """The analyser that `[analysis]` asks for, with the shipped lexicon unless one is configured."""
    from monitor.analysis.lexicon import LexiconError, RiskLexicon

    config = settings.analysis
    try:
        lexicon = RiskLexicon.load(config.lexicon_path)
    except (OSError, LexiconError) as exc:
        raise AnalyserError("[analysis] lexicon_path", str(exc)) from None
    common = dict(flag_threshold=config.flag_threshold, languages=config.languages, lexicon=lexicon)
    if config.backend == "keywords":
        from monitor.analysis.keywords import KeywordAnalyser

        return KeywordAnalyser(**common)
    if config.backend == "transformers":
        from monitor.analysis.transformers_backend import TransformersAnalyser, TransformersModelError

        try:
            return TransformersAnalyser(config.model, batch_size=config.batch_size, device=config.device, **common)
        except TransformersModelError as exc:
            raise AnalyserError("[analysis] model", str(exc)) from None
    from monitor.analysis.embedded import HEADS_FILE, EmbeddedAnalyser, Heads, ModelFileError

    from monitor.analysis.severity import SeverityRules

    try:
        heads, rules = None, None
        if config.heads_path:
            path = Path(config.heads_path).expanduser()
            heads = Heads.load(path / HEADS_FILE if path.is_dir() else path)
            folder = path if path.is_dir() else path.parent
            if (folder / "severity.toml").is_file():   # a shop's own severity (model train --from-decisions)
                rules = SeverityRules.from_toml((folder / "severity.toml").read_text("utf-8"))
        return EmbeddedAnalyser(heads=heads, rules=rules, batch_size=max(config.batch_size, 256), **common)
    except ModelFileError as exc:
        raise AnalyserError("[analysis] heads_path", str(exc)) from None
    except (OSError, ValueError) as exc:   # the severity.toml beside the heads
        raise AnalyserError("[analysis] heads_path", f"severity.toml beside the heads: {exc}") from None
