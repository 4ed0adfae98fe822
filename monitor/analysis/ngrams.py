"""Character n-gram sentiment model: hashed 2-5 grams + multinomial logistic regression, numpy only.

The sentence encoder sees meaning; spelling-level cues (emoticons, "!!!", slang, a shop's
product words, inflected Polish and Russian endings) are cheaper to read from characters. The
texts of a whole batch are hashed together in a few vectorised passes (no Python loop per
n-gram), so this costs little next to the encoder. N-grams stay inside words (as scikit-learn's
`char_wb`): each lower-cased word is padded with a space. Every n-gram is counted as written and,
when it differs, also with its diacritics folded ("żółty" also gives "zolty"), so posts typed
without Polish letters or with ё written as е meet the same weights.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

BUCKETS_LOG2 = 18
MIN_N, MAX_N = 2, 5
_PRIME = np.uint64(0x100000001B3)            # FNV-style multiplier for the rolling hash
_MIX = np.uint64(0x9E3779B97F4A7C15)         # Fibonacci hashing: top bits become the bucket
_SPACE = 32
_EXTRA_FOLD = {"ł": "l", "Ł": "l", "đ": "d", "ø": "o", "ı": "i"}


def _fold_table(size: int = 0x3000) -> np.ndarray:
    """Code point -> the same letter without diacritics (one char for one char, so positions hold)."""
    table = np.arange(size, dtype=np.uint32)
    for cp in range(128, size):
        ch = chr(cp)
        base = _EXTRA_FOLD.get(ch) or "".join(c for c in unicodedata.normalize("NFKD", ch)
                                              if not unicodedata.combining(c))
        if len(base) == 1 and base != ch:
            table[cp] = ord(base.lower())
    return table


_FOLD = _fold_table()


@dataclass
class Hashed:
    """Sparse (rows x buckets) matrix: row `doc[i]` has `value[i]` in column `bucket[i]`; sorted by row."""

    doc: np.ndarray        # int32
    bucket: np.ndarray     # int32
    value: np.ndarray      # float32, each row L2-normalised
    rows: int

    def indptr(self) -> np.ndarray:
        return np.searchsorted(self.doc, np.arange(self.rows + 1)).astype(np.int64)


def _gram_hashes(cp: np.ndarray, is_space: np.ndarray, buckets_log2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, length and bucket of every n-gram of one joined code-point array that stays in a word."""
    length = len(cp)
    starts, sizes, buckets = [], [], []
    shift = np.uint64(64 - buckets_log2)
    for n in range(MIN_N, MAX_N + 1):
        count = length - n + 1
        if count <= 0:
            break
        h = np.full(count, (n * int(_MIX)) % (1 << 64), dtype=np.uint64)
        valid = np.ones(count, dtype=bool)
        for k in range(n):
            h *= _PRIME
            h += cp[k:k + count]
            if 0 < k < n - 1:
                valid &= ~is_space[k:k + count]
        position = np.flatnonzero(valid)
        starts.append(position)
        sizes.append(np.full(len(position), n, dtype=np.int64))
        buckets.append(((h[position] * _MIX) >> shift).astype(np.int64))
    if not starts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(starts), np.concatenate(sizes), np.concatenate(buckets)


def hash_texts(texts: Sequence[str], buckets_log2: int = BUCKETS_LOG2) -> Hashed:
    """Sublinear (1 + log count), L2-normalised n-gram counts of every text, in one pass."""
    parts = [(" " + " ".join(words)) if (words := text.lower().split()) else "" for text in texts]
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    joined = "".join(parts) + " "
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    owner = np.append(np.repeat(np.arange(len(parts), dtype=np.int64), lengths), max(len(parts) - 1, 0))
    is_space = cp == _SPACE
    folded = np.where(cp < len(_FOLD), _FOLD[np.minimum(cp, len(_FOLD) - 1)], cp)
    start, _, bucket = _gram_hashes(cp.astype(np.uint64), is_space, buckets_log2)
    changed = folded != cp
    if changed.any():
        f_start, f_size, f_bucket = _gram_hashes(folded.astype(np.uint64), is_space, buckets_log2)
        # only the n-grams that folding changed: the others would just be counted twice
        touched = np.concatenate([[0], np.cumsum(changed)])
        differs = touched[f_start + f_size] > touched[f_start]
        start = np.concatenate([start, f_start[differs]])
        bucket = np.concatenate([bucket, f_bucket[differs]])
    buckets = 1 << buckets_log2
    keys, counts = np.unique(owner[start] * buckets + bucket, return_counts=True)
    doc = (keys >> buckets_log2).astype(np.int32)
    value = (1.0 + np.log(counts)).astype(np.float32)
    norms = np.sqrt(np.bincount(doc, weights=value * value, minlength=len(parts)))
    value /= np.maximum(norms[doc], 1e-12).astype(np.float32)
    return Hashed(doc, (keys & (buckets - 1)).astype(np.int32), value, len(parts))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def _rows_logits(weights: np.ndarray, bias: np.ndarray, hashed: Hashed) -> np.ndarray:
    out = np.empty((hashed.rows, weights.shape[1]), np.float64)
    contrib = weights[hashed.bucket] * hashed.value[:, None]
    for c in range(weights.shape[1]):
        out[:, c] = np.bincount(hashed.doc, weights=contrib[:, c], minlength=hashed.rows)
    return out + bias


@dataclass
class NgramModel:
    """Weights (buckets x classes) of a multinomial logistic regression on `hash_texts` features."""

    classes: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0

    @property
    def buckets_log2(self) -> int:
        return int(np.log2(len(self.weights)))

    def logits(self, texts: Sequence[str] | Hashed) -> np.ndarray:
        hashed = texts if isinstance(texts, Hashed) else hash_texts(texts, self.buckets_log2)
        return _rows_logits(self.weights, self.bias, hashed)

    def predict_proba(self, texts: Sequence[str] | Hashed) -> np.ndarray:
        return _softmax(self.logits(texts) / self.temperature).astype(np.float32)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.weights": self.weights.astype(np.float16), f"{prefix}.bias": self.bias.astype(np.float32),
                f"{prefix}.temperature": np.array(self.temperature, dtype=np.float32),
                f"{prefix}.classes": np.array(self.classes)}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> Optional["NgramModel"]:
        if f"{prefix}.weights" not in arrays:
            return None
        return cls(tuple(str(c) for c in arrays[f"{prefix}.classes"]),
                   np.asarray(arrays[f"{prefix}.weights"], dtype=np.float32),
                   np.asarray(arrays[f"{prefix}.bias"], dtype=np.float32),
                   float(arrays[f"{prefix}.temperature"]))


@dataclass
class NgramConfig:
    epochs: int = 5
    batch_size: int = 512
    learning_rate: float = 0.01
    weight_decay: float = 1e-6
    seed: int = 17
    buckets_log2: int = BUCKETS_LOG2
    log: list = field(default_factory=list)


def _take_rows(hashed: Hashed, indptr: np.ndarray, rows: np.ndarray) -> Hashed:
    starts, ends = indptr[rows], indptr[rows + 1]
    sizes = ends - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    positions = offsets + np.arange(sizes.sum())
    return Hashed(np.repeat(np.arange(len(rows), dtype=np.int32), sizes), hashed.bucket[positions],
                  hashed.value[positions], len(rows))


def train_ngram_model(hashed: Hashed, y: np.ndarray, weights: np.ndarray, classes: tuple[str, ...],
                      config: NgramConfig, val: Optional[Hashed] = None, y_val: Optional[np.ndarray] = None,
                      w_val: Optional[np.ndarray] = None) -> NgramModel:
    """Weighted cross-entropy + L2, minibatch Adam (lazy: only the buckets a batch touches move)."""
    from monitor.analysis.heads import weighted_log_loss

    rng = np.random.default_rng(config.seed)
    k = len(classes)
    n_buckets = 1 << config.buckets_log2
    w = np.zeros((n_buckets, k), np.float32)
    b = np.zeros(k, np.float64)
    m, v = np.zeros_like(w), np.zeros_like(w)
    weights = (weights / weights.mean()).astype(np.float32)
    onehot = np.eye(k, dtype=np.float32)
    indptr = hashed.indptr()
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    best: tuple[float, Optional[tuple]] = (np.inf, None)
    for epoch in range(config.epochs):
        lr = config.learning_rate * 0.5 * (1 + np.cos(np.pi * epoch / config.epochs))
        order = rng.permutation(hashed.rows)
        for first in range(0, hashed.rows, config.batch_size):
            rows = order[first:first + config.batch_size]
            batch = _take_rows(hashed, indptr, rows)
            probs = _softmax(_rows_logits(w, b, batch))
            grad_rows = ((probs - onehot[y[rows]]) * weights[rows, None] / len(rows)).astype(np.float32)
            touched, inverse = np.unique(batch.bucket, return_inverse=True)
            contrib = grad_rows[batch.doc] * batch.value[:, None]
            grad = np.empty((len(touched), k), np.float32)
            for c in range(k):
                grad[:, c] = np.bincount(inverse, weights=contrib[:, c], minlength=len(touched))
            grad += config.weight_decay * w[touched]
            step += 1
            m_t = beta1 * m[touched] + (1 - beta1) * grad
            v_t = beta2 * v[touched] + (1 - beta2) * grad * grad
            m[touched], v[touched] = m_t, v_t
            w[touched] -= lr * (m_t / (1 - beta1 ** step)) / (np.sqrt(v_t / (1 - beta2 ** step)) + eps)
            b -= lr * 0.1 * grad_rows.sum(axis=0)
        if val is not None:
            loss = weighted_log_loss(_softmax(_rows_logits(w, b, val)), y_val, w_val)
            config.log.append((epoch, float(loss)))
            if loss < best[0]:
                best = (loss, (w.copy(), b.copy()))
    if best[1] is not None:
        w, b = best[1]
    return NgramModel(tuple(classes), w, b.astype(np.float32))


@dataclass
class Blend:
    """Log-linear blend of two calibrated models: softmax((s log p_head + (1 - s) log p_ngram) / T)."""

    share: float = 0.5          # weight of the embedding head
    temperature: float = 1.0

    def apply(self, head_probs: np.ndarray, ngram_probs: np.ndarray) -> np.ndarray:
        mixed = (self.share * np.log(np.clip(head_probs.astype(np.float64), 1e-7, 1.0))
                 + (1 - self.share) * np.log(np.clip(ngram_probs.astype(np.float64), 1e-7, 1.0)))
        return _softmax(mixed / self.temperature).astype(np.float32)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.share": np.array(self.share, np.float32),
                f"{prefix}.temperature": np.array(self.temperature, np.float32)}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> Optional["Blend"]:
        if f"{prefix}.share" not in arrays:
            return None
        return cls(float(arrays[f"{prefix}.share"]), float(arrays[f"{prefix}.temperature"]))


def fit_temperature(logits: np.ndarray, y: np.ndarray, w: Optional[np.ndarray] = None) -> float:
    """Temperature minimising log-loss on held-apart rows (1-D grid, as for the heads)."""
    from monitor.analysis.heads import weighted_log_loss

    losses = [(weighted_log_loss(_softmax(logits / t), y, w), float(t))
              for t in np.exp(np.linspace(np.log(0.3), np.log(5.0), 120))]
    return min(losses)[1]


def fit_blend(head_probs: np.ndarray, ngram_probs: np.ndarray, y: np.ndarray, w: np.ndarray,
              score_f1) -> Blend:
    """Share with the best calibration macro-F1 (the figure we report), then its temperature."""
    best = (-1.0, 0.5)
    for share in np.round(np.arange(0.3, 0.701, 0.05), 2):
        f1 = score_f1(Blend(float(share)).apply(head_probs, ngram_probs).argmax(axis=1))
        if f1 > best[0] + 1e-9:
            best = (f1, float(share))
    share = best[1]
    mixed = (share * np.log(np.clip(head_probs.astype(np.float64), 1e-7, 1.0))
             + (1 - share) * np.log(np.clip(ngram_probs.astype(np.float64), 1e-7, 1.0)))
    return Blend(share, fit_temperature(mixed, y, w))
