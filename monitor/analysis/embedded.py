"""The default analyser: shared USE encoder + the small heads shipped in `data/heads.npz`.

Everything runs offline with numpy. A batch of posts costs one encoder pass (plus the
sentences of its long posts) and two matrix products.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from monitor.analysis.base import Analysis, PostView
from monitor.analysis.features import MAX_SENTENCES, Encoded, encode, pooled
from monitor.analysis.heads import Head
from monitor.analysis.language import detect_many
from monitor.analysis.lexicon import RiskLexicon
from monitor.analysis.ngrams import Blend, NgramModel
from monitor.analysis.severity import SeverityRules, build_analysis
from monitor.analysis.text import clean, split_sentences

HEADS_FILE = "heads.npz"


class ModelFileError(Exception):
    """The head weights are missing or do not fit this version of the code."""


@dataclass
class Heads:
    sentiment: Head
    anger: Head
    meta: dict
    ngrams: Optional[NgramModel] = None     # character n-gram sentiment model, blended with the head
    blend: Optional[Blend] = None

    @property
    def version(self) -> str:
        return self.meta.get("version", "unknown")

    def sentiment_proba(self, features: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(N, 3) sentiment in the head's class order: the head, blended with the n-gram model if shipped."""
        probs = self.sentiment.predict_proba(features)
        if self.ngrams is None or self.blend is None or not len(texts):
            return probs
        order = [self.ngrams.classes.index(name) for name in self.sentiment.classes]
        return self.blend.apply(probs, self.ngrams.predict_proba(texts)[:, order])

    def save(self, path: str | Path) -> None:
        arrays = {**self.sentiment.to_arrays("sentiment"), **self.anger.to_arrays("anger"),
                  "meta": np.array(json.dumps(self.meta, sort_keys=True))}
        if self.ngrams is not None and self.blend is not None:
            arrays.update(self.ngrams.to_arrays("ngrams"))
            arrays.update(self.blend.to_arrays("blend"))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Optional[str | Path] = None) -> "Heads":
        try:
            if path is None:
                with resources.as_file(resources.files("monitor.analysis").joinpath("data", HEADS_FILE)) as file:
                    return cls._read(file)
            return cls._read(Path(path))
        except (OSError, KeyError, ValueError) as exc:
            where = path or f"monitor/analysis/data/{HEADS_FILE}"
            raise ModelFileError(
                f"cannot load the analysis heads from {where} ({type(exc).__name__}: {exc}); "
                "rebuild them with `monitor model train --data DIR`") from None

    @classmethod
    def _read(cls, file: Path) -> "Heads":
        with np.load(file, allow_pickle=False) as arrays:
            data = {key: arrays[key] for key in arrays.files}
        meta = json.loads(str(data["meta"]))
        return cls(Head.from_arrays(data, "sentiment"), Head.from_arrays(data, "anger"), meta,
                   NgramModel.from_arrays(data, "ngrams"), Blend.from_arrays(data, "blend"))


def features_for(texts: Sequence[str], embed: Optional[Callable] = None) -> np.ndarray:
    return pooled(encode(texts, embed))


@dataclass
class Scored:
    sentiment: np.ndarray          # (N, 3) in the head's class order
    anger: np.ndarray              # (N,)
    worst_negative: np.ndarray     # (N,) p(negative) of the most negative sentence (0 for short texts)
    worst_sentence: list           # (N,) that sentence, or None


class EmbeddedAnalyser:
    """USE multilingual v3 + numpy heads + risk lexicon + severity rules."""

    def __init__(self, *, flag_threshold: float = 0.5, languages: Sequence[str] = ("pl", "ru", "en", "uk", "de"),
                 heads: Optional[Heads] = None, lexicon: Optional[RiskLexicon] = None,
                 rules: Optional[SeverityRules] = None, batch_size: int = 256):
        self.heads = heads or Heads.load()
        self.lexicon = lexicon or RiskLexicon.load()
        self.rules = rules
        self.flag_threshold = flag_threshold
        self.languages = tuple(languages)
        self.batch_size = batch_size
        self.version = f"embedded:{self.heads.version}"

    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) sentiment probabilities and (N,) anger probability for cleaned texts."""
        scored = self.score_details(texts)
        return scored.sentiment, scored.anger

    def score_details(self, texts: Sequence[str], encoded: Optional[Encoded] = None) -> Scored:
        """Whole-text scores plus, for long texts, the most negative sentence.

        The head reads a sentence as a short text ([sentence, sentence]); that lets one furious
        sentence inside a long, mostly polite review show up as its own reason.
        """
        n = len(texts)
        if not n:
            return Scored(np.zeros((0, 3), np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32), [])
        encoded = encode(texts) if encoded is None else encoded
        features = pooled(encoded)
        sentiment = self.heads.sentiment_proba(features, texts)
        anger = self.heads.anger.predict_proba(features)[:, 1]
        worst = np.zeros(n, np.float32)
        worst_sentence: list = [None] * n
        if len(encoded.owner):
            negative = self.heads.sentiment.classes.index("negative")
            sentence_features = np.hstack([encoded.sentences, encoded.sentences])
            owners = np.unique(encoded.owner)
            sentences = {owner: split_sentences(texts[owner], MAX_SENTENCES) for owner in owners}
            # the same sentences, in the same order, as `encode` produced for encoded.owner
            sentence_texts = [sentence for owner in owners for sentence in sentences[owner]]
            sentence_negative = self.heads.sentiment_proba(sentence_features, sentence_texts)[:, negative]
            for owner in owners:
                rows = np.flatnonzero(encoded.owner == owner)
                best = rows[int(np.argmax(sentence_negative[rows]))]
                worst[owner] = sentence_negative[best]
                worst_sentence[owner] = sentences[owner][best - rows[0]]
        return Scored(sentiment, anger, worst, worst_sentence)

    def assess(self, posts: Sequence[PostView], encoded: Optional[Encoded] = None) -> list[Analysis]:
        """`encoded`: the posts' cleaned texts already encoded (evaluation reads them from its cache)."""
        posts = list(posts)
        cleaned = [clean(post.text) for post in posts]
        languages = detect_many(cleaned, [post.language for post in posts], self.languages)
        sentiment = np.zeros((len(posts), 3), np.float32)
        anger = np.zeros(len(posts), np.float32)
        worst = np.zeros(len(posts), np.float32)
        worst_sentence: list = [None] * len(posts)
        has_words = [i for i, text in enumerate(cleaned) if any(ch.isalnum() for ch in text)]
        for start in range(0, len(has_words), self.batch_size):
            chunk = has_words[start:start + self.batch_size]
            scored = self.score_details([cleaned[i] for i in chunk],
                                        None if encoded is None else encoded.subset(np.asarray(chunk)))
            sentiment[chunk], anger[chunk], worst[chunk] = scored.sentiment, scored.anger, scored.worst_negative
            for i, sentence in zip(chunk, scored.worst_sentence):
                worst_sentence[i] = sentence
        wordless = sorted(set(range(len(posts))) - set(has_words))
        classes = self.heads.sentiment.classes
        sentiment[wordless] = [float(name == "neutral") for name in classes]  # nothing to read: neutral
        results = []
        for i, post in enumerate(posts):
            scores = {name: float(sentiment[i, k]) for k, name in enumerate(classes)}
            scores["anger"] = float(anger[i])
            extra = {}
            if worst_sentence[i] is not None:
                scores["negative_sentence"] = float(worst[i])
                extra["negative_sentence"] = worst_sentence[i]
            results.append(build_analysis(
                post, language=languages[i], scores=scores,
                matches=self.lexicon.find(cleaned[i], already_clean=True),
                flag_threshold=self.flag_threshold, model_version=self.version, rules=self.rules, extra=extra,
            ))
        return results
