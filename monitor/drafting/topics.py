"""What a post is about, in any language: nearest topic centroid over the shared encoder.

The encoder aligns Polish, Russian and English, so a handful of example phrasings per topic
(`data/topics.toml`) classify posts in all three. Cheap keyword cues add a small bonus: they
rescue very short posts ("Pozew!") where one word carries the topic. A post close to no topic
is "other". Texts are embedded in one batch call per `classify`.
"""
from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

TOPICS = ("delivery_late", "parcel_damaged", "wrong_item", "return_refund", "payment", "product_question",
          "availability", "account_login", "praise", "abuse", "legal_threat", "fraud",
          "product_defect", "order_cancelled", "charged_wrong", "support_unreachable", "courier_behaviour")
OTHER = "other"
ALL_TOPICS = TOPICS + (OTHER,)
# Topics where a reply must not argue in public: the legal contact takes over.
ESCALATE_TOPICS = ("legal_threat", "fraud")

Embed = Callable[[Sequence[str]], np.ndarray]
# Topics customers mention on the side ("... and nobody answers", "so I'm sending it back"): when
# one of the topics it names here also has a keyword cue, that one is the main complaint.
YIELDS_TO = {
    "support_unreachable": ("delivery_late", "parcel_damaged", "wrong_item", "product_defect", "order_cancelled",
                            "charged_wrong", "payment", "account_login", "return_refund"),
    "courier_behaviour": ("delivery_late", "parcel_damaged", "wrong_item"),
    "return_refund": ("product_defect", "parcel_damaged", "wrong_item"),
}
CONFIDENT_MARGIN = 0.04   # lead over the runner-up (similarity + cue bonus) a confident topic needs
TEXT_CHARS = 600       # the topic is in the opening of a post; longer texts only cost encoder time
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@][\w.]+|\bRT\b|#(?=\w)")


@dataclass(frozen=True)
class TopicGuess:
    topic: str
    score: float                     # similarity to the topic plus the cue bonus
    runner_up: str
    cues: tuple[str, ...] = ()       # keyword cues that matched (for the approver's notes)
    margin: float = 1.0              # lead over the runner-up
    nearest: str = ""                # the best topic even when `topic` fell back to other

    @property
    def confident(self) -> bool:
        """A topic whose facts a draft may state: it wins by a margin and a keyword cue agrees.

        On real complaints a topic chosen by similarity alone was wrong far too often (lost
        baggage answered with the refund policy); without both, the draft stays generic."""
        return self.topic != OTHER and bool(self.cues) and self.margin >= CONFIDENT_MARGIN


@dataclass(frozen=True)
class TopicExamples:
    topics: tuple[str, ...]
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    cues: dict[str, Optional[re.Pattern]]    # one alternation per topic
    spam: Optional[re.Pattern] = None


@lru_cache(maxsize=1)
def load_examples() -> TopicExamples:
    raw = tomllib.loads(resources.files("monitor.drafting").joinpath("data/topics.toml").read_text("utf-8"))
    texts, labels, cues = [], [], {}
    for topic in TOPICS:
        body = raw.get(topic, {})
        for language in ("pl", "ru", "en"):
            for text in body.get(language, []):
                texts.append(text)
                labels.append(topic)
        entries = body.get("cues", [])
        cues[topic] = re.compile("|".join(f"(?<!\\w)(?:{cue})" for cue in entries), re.I) if entries else None
    spam = raw.get("spam", {}).get("cues", [])
    spam_pattern = re.compile("|".join(f"(?<!\\w)(?:{cue})" for cue in spam), re.I) if spam else None
    return TopicExamples(TOPICS, tuple(texts), tuple(labels), cues, spam_pattern)


def _default_embed(texts: Sequence[str]) -> np.ndarray:
    from monitor.analysis.encoder import embed

    return embed(texts)


class TopicClassifier:
    """Nearest centroid (mean of the example embeddings per topic) plus keyword cues."""

    def __init__(self, embed: Optional[Embed] = None, *, cue_weight: float = 0.20,
                 other_below: float = 0.20, method: str = "centroid", k: int = 3):
        self._embed = embed or _default_embed
        self.cue_weight = cue_weight
        self.other_below = other_below
        self.method = method
        self.k = k
        self._examples = load_examples()
        self._centroids: Optional[np.ndarray] = None
        self._example_vectors: Optional[np.ndarray] = None

    def _fit(self) -> None:
        if self._centroids is not None:
            return
        vectors = self._embed(list(self._examples.texts))
        labels = np.array(self._examples.labels)
        centroids = np.stack([vectors[labels == topic].mean(axis=0) for topic in TOPICS])
        self._centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        self._example_vectors = vectors
        self._example_labels = labels

    def _similarities(self, vectors: np.ndarray) -> np.ndarray:
        if self.method == "knn":
            sims = vectors @ self._example_vectors.T
            out = np.zeros((len(vectors), len(TOPICS)), dtype=np.float32)
            for index, topic in enumerate(TOPICS):
                topic_sims = np.sort(sims[:, self._example_labels == topic], axis=1)[:, ::-1]
                out[:, index] = topic_sims[:, : self.k].mean(axis=1)
            return out
        return vectors @ self._centroids.T

    def spam_cue(self, text: str) -> Optional[str]:
        """The spam phrase in a post (advertising, "earn $500 a day", follow-for-follow), if any."""
        pattern = self._examples.spam
        match = pattern.search(strip_noise(text[:TEXT_CHARS])) if pattern else None
        return match.group(0) if match else None

    def cue_hits(self, text: str) -> dict[str, tuple[str, ...]]:
        hits = {}
        sample = strip_noise(text[:TEXT_CHARS])
        for topic, pattern in self._examples.cues.items():
            if pattern is None:
                continue
            found: list[str] = []
            for match in pattern.finditer(sample):
                word = match.group(0).lower()
                if word not in found:
                    found.append(word)
                if len(found) >= 3:
                    break
            if found:
                hits[topic] = tuple(found)
        return hits

    def classify(self, texts: Sequence[str], vectors: Optional[np.ndarray] = None) -> list[TopicGuess]:
        if not texts:
            return []
        self._fit()
        if vectors is None:
            vectors = self._embed([strip_noise(text[:TEXT_CHARS]) or text[:TEXT_CHARS] for text in texts])
        scores = self._similarities(np.asarray(vectors, dtype=np.float32))
        guesses = []
        for row, text in zip(scores, texts):
            hits = self.cue_hits(text) if self.cue_weight else {}
            row = row.copy()
            for topic, found in hits.items():
                row[TOPICS.index(topic)] += self.cue_weight * min(len(found), 2)
            order = list(np.argsort(row)[::-1])
            if TOPICS[order[0]] in YIELDS_TO:
                mains = YIELDS_TO[TOPICS[order[0]]]
                main = next((i for i in order[1:] if TOPICS[i] in hits and TOPICS[i] in mains
                             and row[i] >= self.other_below), None)
                if main is not None:
                    order.remove(main)
                    order.insert(0, main)
            best, second = TOPICS[order[0]], TOPICS[order[1]]
            score = float(row[order[0]])
            rivals = [float(row[i]) for i in order[1:] if best not in YIELDS_TO.get(TOPICS[i], ())]
            margin = score - (max(rivals) if rivals else 0.0)
            topic = best if score >= self.other_below else OTHER
            guesses.append(TopicGuess(topic, round(score, 4), second, hits.get(best, ()), round(margin, 4), best))
        return guesses


def strip_noise(text: str) -> str:
    """Handles, links and retweet markers say nothing about the topic ("@anonymized_account" is no
    account problem)."""
    return " ".join(_NOISE.sub(" ", text).split())


def read_labelled(path: str | Path) -> list[tuple[str, str, str]]:
    """(text, lang, topic) rows of a labelled CSV with columns text,lang,topic."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "lang", "topic"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return [(row["text"], row["lang"], row["topic"]) for row in reader]


def accuracy_by_language(classifier: TopicClassifier, rows: Sequence[tuple[str, str, str]]) -> dict[str, dict]:
    """{'pl': {'posts': n, 'correct': k, 'accuracy': k/n, 'errors': [(text, expected, got)]}, ..., 'all': ...}"""
    guesses = classifier.classify([text for text, _, _ in rows])
    report: dict[str, dict] = {}
    for (text, language, expected), guess in zip(rows, guesses):
        for key in (language, "all"):
            entry = report.setdefault(key, {"posts": 0, "correct": 0, "errors": []})
            entry["posts"] += 1
            if guess.topic == expected:
                entry["correct"] += 1
            elif key != "all":
                entry["errors"].append((text, expected, guess.topic))
    for entry in report.values():
        entry["accuracy"] = round(entry["correct"] / entry["posts"], 3) if entry["posts"] else 0.0
    return report
