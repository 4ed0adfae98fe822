"""The `keywords` backend: no model at all, only word lists, stars and the risk lexicon.

Cheap and predictable: for a Raspberry Pi, for tests of the pipeline, or as the fallback when
the model files are unavailable. Its sentiment is a rough count of polarity words
(`data/polarity.toml`); its severity uses the same rules as the other backends.
"""
from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Optional, Sequence

from monitor.analysis.base import Analysis, PostView
from monitor.analysis.language import detect_many
from monitor.analysis.lexicon import RiskLexicon
from monitor.analysis.severity import SeverityRules, build_analysis
from monitor.analysis.text import clean

VERSION = "keywords:1"


@lru_cache(maxsize=1)
def polarity_lexicon() -> RiskLexicon:
    return RiskLexicon.from_toml(resources.files("monitor.analysis").joinpath("data/polarity.toml").read_text("utf-8"))


def polarity(negative_hits: int, positive_hits: int, rating: Optional[int]) -> dict[str, float]:
    """A soft three-way split from word counts (and stars, which are the author's own verdict)."""
    evidence = negative_hits - positive_hits
    if rating is not None:
        evidence += {1: 3, 2: 2, 3: 0, 4: -1, 5: -2}.get(rating, 0)
    strength = 1.0 - math.exp(-0.9 * abs(evidence))
    if evidence > 0:
        return {"negative": 0.34 + 0.6 * strength, "neutral": 0.33 - 0.3 * strength, "positive": 0.33 - 0.3 * strength}
    if evidence < 0:
        return {"negative": 0.33 - 0.3 * strength, "neutral": 0.33 - 0.3 * strength, "positive": 0.34 + 0.6 * strength}
    return {"negative": 0.25, "neutral": 0.5, "positive": 0.25}


class KeywordAnalyser:
    def __init__(self, *, flag_threshold: float = 0.5, languages: Sequence[str] = ("pl", "ru", "en", "uk", "de"),
                 lexicon: Optional[RiskLexicon] = None, rules: Optional[SeverityRules] = None):
        self.lexicon = lexicon or RiskLexicon.load()
        self.flag_threshold = flag_threshold
        self.languages = tuple(languages)
        self.rules = rules
        self.version = VERSION

    def assess(self, posts: Sequence[PostView]) -> list[Analysis]:
        posts = list(posts)
        cleaned = [clean(post.text) for post in posts]
        languages = detect_many(cleaned, [post.language for post in posts], self.languages)
        words = polarity_lexicon()
        results = []
        for post, text, language in zip(posts, cleaned, languages):
            hits = {match.code: len(match.evidence) for match in words.find(text, already_clean=True)}
            scores = polarity(hits.get("negative_words", 0), hits.get("positive_words", 0), post.rating)
            results.append(build_analysis(
                post, language=language, scores=scores, matches=self.lexicon.find(text, already_clean=True),
                flag_threshold=self.flag_threshold, model_version=self.version, rules=self.rules,
            ))
        return results
