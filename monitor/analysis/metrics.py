"""Classification figures for `monitor model eval`: macro-F1, per-class precision/recall, confusion."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class Scores:
    n: int
    macro_f1: float
    accuracy: float
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    confusion: list[list[int]]                 # rows: true label, columns: predicted
    labels: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {"n": self.n, "macro_f1": round(self.macro_f1, 4), "accuracy": round(self.accuracy, 4),
                "precision": {k: round(v, 4) for k, v in self.precision.items()},
                "recall": {k: round(v, 4) for k, v in self.recall.items()},
                "f1": {k: round(v, 4) for k, v in self.f1.items()},
                "labels": list(self.labels), "confusion": self.confusion}


def score(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> Scores:
    """Macro-F1 over the labels present in y_true (a file with no neutral rows is not punished for it)."""
    k = len(labels)
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    precision, recall, f1 = {}, {}, {}
    present = []
    for i, name in enumerate(labels):
        tp = confusion[i, i]
        predicted = confusion[:, i].sum()
        actual = confusion[i, :].sum()
        precision[name] = float(tp / predicted) if predicted else 0.0
        recall[name] = float(tp / actual) if actual else 0.0
        p, r = precision[name], recall[name]
        f1[name] = 2 * p * r / (p + r) if p + r else 0.0
        if actual:
            present.append(name)
    macro = float(np.mean([f1[name] for name in present])) if present else 0.0
    accuracy = float(np.trace(confusion) / confusion.sum()) if confusion.sum() else 0.0
    return Scores(int(len(y_true)), macro, accuracy, precision, recall, f1, confusion.tolist(), tuple(labels))
