"""Texts -> feature vectors for the heads: the shared encoder plus sentence pooling.

A tweet is encoded once. A long review is also split into sentences, each encoded, and the
sentence vectors averaged; the head sees both the whole-text vector and the sentence mean.
(A max-pool block was measured too and did not pay for its cost.) All encoder calls for a
batch of posts go through one `embed` call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from monitor.analysis.text import split_sentences

LONG_CHARS = 200          # texts longer than this are also scored sentence by sentence
MAX_SENTENCES = 40
FEATURES = 1024           # length of a feature vector


@dataclass
class Encoded:
    whole: np.ndarray        # (N, 512): each text as one
    sentences: np.ndarray    # (M, 512): sentences of the long texts
    owner: np.ndarray        # (M,): which text each sentence belongs to

    def __len__(self) -> int:
        return len(self.whole)

    def subset(self, index: np.ndarray) -> "Encoded":
        index = np.asarray(index)
        remap = -np.ones(len(self.whole), dtype=np.int64)
        remap[index] = np.arange(len(index))
        keep = remap[self.owner] >= 0 if len(self.owner) else np.zeros(0, bool)
        return Encoded(self.whole[index], self.sentences[keep], remap[self.owner[keep]])


def encode(texts: Sequence[str], embed: Optional[Callable[[Sequence[str]], np.ndarray]] = None) -> Encoded:
    """One encoder call for the texts and all sentences of the long ones."""
    if embed is None:
        from monitor.analysis.encoder import embed
    batch = list(texts)
    owner: list[int] = []
    for index, text in enumerate(texts):
        if len(text) > LONG_CHARS:
            sentences = split_sentences(text, MAX_SENTENCES)
            if len(sentences) > 1:
                batch.extend(sentences)
                owner.extend([index] * len(sentences))
    vectors = embed(batch) if batch else np.zeros((0, 512), np.float32)
    n = len(texts)
    return Encoded(vectors[:n], vectors[n:], np.asarray(owner, dtype=np.int64))


def pooled(encoded: Encoded) -> np.ndarray:
    """(N, 1024): [whole text, mean of its sentences]; a short text repeats its one vector."""
    whole = encoded.whole.astype(np.float32)
    n = len(whole)
    mean = whole.copy()
    if len(encoded.owner):
        counts = np.bincount(encoded.owner, minlength=n).astype(np.float32)
        sums = np.zeros_like(whole)
        np.add.at(sums, encoded.owner, encoded.sentences.astype(np.float32))
        has = counts > 0
        mean[has] = sums[has] / counts[has, None]
    return np.hstack([whole, mean])
