"""Small classifier heads on top of sentence embeddings: trained and run with numpy only.

A head is a one-hidden-layer network (or a linear layer when `hidden == 0`) followed by a
softmax with a fitted temperature, so its probabilities are calibrated on rows it never
trained on. Shipped heads are plain arrays in one `.npz`: loading needs numpy, nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


@dataclass
class Head:
    """Weights of one head; `predict_proba` is the whole inference."""

    classes: tuple[str, ...]
    w1: np.ndarray
    b1: np.ndarray
    w2: Optional[np.ndarray] = None
    b2: Optional[np.ndarray] = None
    mean: Optional[np.ndarray] = None      # feature centring fitted on training rows
    temperature: float = 1.0
    bias_shift: Optional[np.ndarray] = None  # per-class log-prior correction (fitted on calibration rows)

    def logits(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float32)
        if self.mean is not None:
            x = x - self.mean
        out = x @ self.w1 + self.b1
        if self.w2 is not None:
            np.maximum(out, 0.0, out=out)
            out = out @ self.w2 + self.b2
        return out

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        logits = self.logits(features) / self.temperature
        if self.bias_shift is not None:
            logits = logits + self.bias_shift
        return _softmax(logits.astype(np.float64)).astype(np.float32)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {f"{prefix}.w1": self.w1.astype(np.float16), f"{prefix}.b1": self.b1.astype(np.float32),
                  f"{prefix}.temperature": np.array(self.temperature, dtype=np.float32),
                  f"{prefix}.classes": np.array(self.classes)}
        for name in ("w2", "b2", "mean", "bias_shift"):
            value = getattr(self, name)
            if value is not None:
                arrays[f"{prefix}.{name}"] = value.astype(np.float16 if name == "w2" else np.float32)
        return arrays

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> "Head":
        get = lambda name: (np.asarray(arrays[f"{prefix}.{name}"], dtype=np.float32)  # noqa: E731
                            if f"{prefix}.{name}" in arrays else None)
        return cls(
            classes=tuple(str(c) for c in arrays[f"{prefix}.classes"]),
            w1=get("w1"), b1=get("b1"), w2=get("w2"), b2=get("b2"), mean=get("mean"),
            temperature=float(arrays[f"{prefix}.temperature"]), bias_shift=get("bias_shift"),
        )


@dataclass
class TrainConfig:
    hidden: int = 256
    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2
    input_noise: float = 0.0
    seed: int = 7
    log: list = field(default_factory=list)


def train_head(x: np.ndarray, y: np.ndarray, weights: np.ndarray, classes: tuple[str, ...],
               config: TrainConfig, x_val: Optional[np.ndarray] = None, y_val: Optional[np.ndarray] = None,
               w_val: Optional[np.ndarray] = None) -> Head:
    """Weighted cross-entropy, Adam, dropout; keeps the epoch with the best validation loss."""
    rng = np.random.default_rng(config.seed)
    x = np.asarray(x, dtype=np.float32)
    mean = x.mean(axis=0).astype(np.float32)
    x = x - mean
    n, dim = x.shape
    k = len(classes)
    weights = (weights / weights.mean()).astype(np.float32)
    hidden = config.hidden
    params: dict[str, np.ndarray] = {}
    if hidden:
        params["w1"] = (rng.standard_normal((dim, hidden)) * np.sqrt(2.0 / dim)).astype(np.float32)
        params["b1"] = np.zeros(hidden, np.float32)
        params["w2"] = (rng.standard_normal((hidden, k)) * np.sqrt(1.0 / hidden)).astype(np.float32)
        params["b2"] = np.zeros(k, np.float32)
    else:
        params["w1"] = np.zeros((dim, k), np.float32)
        params["b1"] = np.zeros(k, np.float32)
    moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in params.items()}
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    best: tuple[float, dict[str, np.ndarray]] = (np.inf, {})
    onehot = np.eye(k, dtype=np.float32)

    def current() -> Head:
        return Head(classes, params["w1"], params["b1"], params.get("w2"), params.get("b2"), mean=mean)

    for epoch in range(config.epochs):
        order = rng.permutation(n)
        lr = config.learning_rate * (0.5 * (1 + np.cos(np.pi * epoch / config.epochs)))
        for start in range(0, n, config.batch_size):
            idx = order[start:start + config.batch_size]
            xb, yb, wb = x[idx], onehot[y[idx]], weights[idx][:, None]
            if config.input_noise:
                xb = xb + rng.standard_normal(xb.shape).astype(np.float32) * config.input_noise
            if hidden:
                pre = xb @ params["w1"] + params["b1"]
                act = np.maximum(pre, 0.0)
                if config.dropout:
                    mask = (rng.random(act.shape) >= config.dropout).astype(np.float32) / (1 - config.dropout)
                    act *= mask
                logits = act @ params["w2"] + params["b2"]
            else:
                logits = xb @ params["w1"] + params["b1"]
            probs = _softmax(logits)
            grad_logits = (probs - yb) * wb / len(idx)
            grads: dict[str, np.ndarray] = {}
            if hidden:
                grads["w2"] = act.T @ grad_logits
                grads["b2"] = grad_logits.sum(axis=0)
                grad_act = grad_logits @ params["w2"].T
                if config.dropout:
                    grad_act *= mask
                grad_act *= pre > 0
                grads["w1"] = xb.T @ grad_act
                grads["b1"] = grad_act.sum(axis=0)
            else:
                grads["w1"] = xb.T @ grad_logits
                grads["b1"] = grad_logits.sum(axis=0)
            step += 1
            for name, grad in grads.items():
                if name.startswith("w"):
                    grad = grad + config.weight_decay * params[name]
                m, v = moments[name]
                m *= beta1; m += (1 - beta1) * grad
                v *= beta2; v += (1 - beta2) * grad * grad
                m_hat = m / (1 - beta1 ** step)
                v_hat = v / (1 - beta2 ** step)
                params[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
        if x_val is not None:
            head = current()
            loss = weighted_log_loss(head.predict_proba(x_val), y_val, w_val)
            config.log.append((epoch, float(loss)))
            if loss < best[0]:
                best = (loss, {name: p.copy() for name, p in params.items()})
    if best[1]:
        params = best[1]
    return Head(classes, params["w1"], params["b1"], params.get("w2"), params.get("b2"), mean=mean)


def weighted_log_loss(probs: np.ndarray, y: np.ndarray, w: Optional[np.ndarray] = None) -> float:
    picked = np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)
    w = np.ones(len(y)) if w is None else w
    return float(-(w * np.log(picked)).sum() / w.sum())


def fit_temperature(head: Head, x: np.ndarray, y: np.ndarray, w: Optional[np.ndarray] = None) -> float:
    """Temperature that minimises log-loss on held-apart rows (a 1-D search: no optimiser needed)."""
    logits = head.logits(x).astype(np.float64)
    w = np.ones(len(y)) if w is None else w
    best = (np.inf, 1.0)
    for t in np.exp(np.linspace(np.log(0.3), np.log(5.0), 120)):
        probs = _softmax(logits / t)
        loss = weighted_log_loss(probs, y, w)
        if loss < best[0]:
            best = (loss, float(t))
    return best[1]
