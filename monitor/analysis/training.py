"""Training and evaluation of the embedded heads (`monitor model train` / `monitor model eval`).

Reproducible: the split is a hash of the text, the heads use fixed seeds, and the only input
besides the data folder is `data/training.toml`. Encoding the data is the slow part (about
400k texts and review sentences, several minutes on 2 cores), so encodings are cached per data
file (keyed by the file's content and the encoder) in ~/.cache/reply-monitor.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from monitor.analysis.corpus import (SENTIMENT_LABELS, Corpus, Recipe, Row, file_stem, find_files, load_corpus,
                                     load_recipe, sample_per_file)
from monitor.analysis.encoder import ENCODER_NAME
from monitor.analysis.features import FEATURES, Encoded, encode, pooled
from monitor.analysis.heads import Head, TrainConfig, fit_temperature, train_head, weighted_log_loss
from monitor.analysis.metrics import score
from monitor.analysis.ngrams import MAX_N, MIN_N, Blend, NgramConfig, NgramModel, fit_blend, hash_texts, train_ngram_model
from monitor.analysis.ngrams import fit_temperature as fit_ngram_temperature
from monitor.analysis.text import clean

SENTIMENT_CONFIG = dict(hidden=256, epochs=12, dropout=0.3, input_noise=0.01, learning_rate=2e-3, seed=11)
ANGER_CONFIG = dict(hidden=128, epochs=10, dropout=0.3, input_noise=0.01, learning_rate=2e-3, seed=13)
NGRAM_CONFIG = dict(epochs=6, learning_rate=0.02, weight_decay=1e-6, seed=17)
ANGER_MIN_PRECISION = 0.55   # the anger head's operating point: precision kept above this (calibration)
CLASS_BALANCE = 0.5       # 0: natural class mix, 1: fully balanced; 0.5 measured best for macro-F1
Log = Callable[[str], None]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reply-monitor" / "embeddings"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def encode_rows(corpus: Corpus, rows: Sequence[Row], data_dir: str | Path, cache_dir: Optional[Path],
                log: Log = lambda _: None) -> np.ndarray:
    """Features (len(rows), FEATURES) for these rows; whole files are encoded and cached once."""
    return pooled(encoded_rows(corpus, rows, data_dir, cache_dir, log))


def encoded_rows(corpus: Corpus, rows: Sequence[Row], data_dir: str | Path, cache_dir: Optional[Path],
                 log: Log = lambda _: None) -> Encoded:
    """The encodings (texts and their sentences) of these rows, in order, from the per-file cache."""
    paths = {file_stem(p): p for p in find_files(data_dir)}
    index_of = {id(row): i for i, row in enumerate(corpus.rows)}
    parts: list[tuple[list[int], Encoded]] = []
    by_file: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_file.setdefault(row.file, []).append(position)
    for name, positions in sorted(by_file.items()):
        file_rows = [i for i, row in enumerate(corpus.rows) if row.file == name]
        local = {corpus_index: k for k, corpus_index in enumerate(file_rows)}
        wanted = np.array([local[index_of[id(rows[p])]] for p in positions])
        cache = None
        if cache_dir is not None:
            cache = cache_dir / ENCODER_NAME / f"{name}-{_file_digest(paths[name])}.npz"
        held, encoded = _read_cache(cache, len(file_rows))
        missing = np.setdiff1d(np.unique(wanted), held)
        if len(missing):
            started = time.monotonic()
            texts = [clean(corpus.rows[file_rows[k]].text) for k in missing]
            log(f"encoding {name}: {len(texts)} of {len(file_rows)} texts ...")
            fresh = encode(texts)
            log(f"  {len(texts) + len(fresh.owner)} encodings in {time.monotonic() - started:.0f}s")
            held, encoded = _merge(held, encoded, missing, fresh)
            _write_cache(cache, held, encoded, len(file_rows))
        at = np.searchsorted(held, wanted)
        parts.append((positions, encoded.subset(at)))
    return _gather(parts, len(rows))


def _read_cache(cache: Optional[Path], file_rows: int) -> tuple[np.ndarray, Encoded]:
    """(file-local row numbers held, their encodings): the whole file, or the rows encoded so far."""
    empty = (np.zeros(0, np.int64), Encoded(np.zeros((0, FEATURES // 2), np.float32),
                                            np.zeros((0, FEATURES // 2), np.float32), np.zeros(0, np.int64)))
    if cache is None:
        return empty
    for path, partial in ((cache, False), (cache.with_name(cache.name.replace(".npz", ".part.npz")), True)):
        if not path.is_file():
            continue
        try:
            with np.load(path) as z:
                encoded = Encoded(z["whole"].astype(np.float32), z["sentences"].astype(np.float32), z["owner"])
                held = z["rows"].astype(np.int64) if partial else np.arange(len(encoded))
        except (OSError, ValueError, KeyError):
            continue
        if (partial and len(held) == len(encoded)) or (not partial and len(encoded) == file_rows):
            return held, encoded
    return empty


def _merge(held: np.ndarray, encoded: Encoded, new_rows: np.ndarray, fresh: Encoded) -> tuple[np.ndarray, Encoded]:
    rows = np.concatenate([held, new_rows])
    both = Encoded(np.vstack([encoded.whole, fresh.whole]), np.vstack([encoded.sentences, fresh.sentences]),
                   np.concatenate([encoded.owner, fresh.owner + len(held)]))
    order = np.argsort(rows, kind="stable")
    return rows[order], both.subset(order)


def _write_cache(cache: Optional[Path], held: np.ndarray, encoded: Encoded, file_rows: int) -> None:
    """Whole files in the plain cache file; a file encoded in part keeps its rows in `.part.npz`."""
    if cache is None:
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    complete = len(held) == file_rows
    target = cache if complete else cache.with_name(cache.name.replace(".npz", ".part.npz"))
    tmp = target.with_name(target.name + ".tmp.npz")
    arrays = dict(whole=encoded.whole.astype(np.float16), sentences=encoded.sentences.astype(np.float16),
                  owner=encoded.owner)
    if not complete:
        arrays["rows"] = held
    np.savez(tmp, **arrays)
    os.replace(tmp, target)
    if complete:
        cache.with_name(cache.name.replace(".npz", ".part.npz")).unlink(missing_ok=True)


def _gather(parts: list[tuple[list[int], Encoded]], n: int) -> Encoded:
    """Per-file encodings put back in the order of the rows asked for."""
    whole = np.zeros((n, FEATURES // 2), np.float32)
    sentences, owners = [], []
    for positions, encoded in parts:
        whole[positions] = encoded.whole
        sentences.append(encoded.sentences.astype(np.float32))
        owners.append(np.asarray(positions, dtype=np.int64)[encoded.owner])
    if not parts:
        return Encoded(whole, np.zeros((0, FEATURES // 2), np.float32), np.zeros(0, np.int64))
    owner = np.concatenate(owners)
    order = np.argsort(owner, kind="stable")   # sentences grouped by their text, in text order
    return Encoded(whole, np.vstack(sentences)[order], owner[order])


def row_weights(rows: Sequence[Row], targets: np.ndarray, recipe: Recipe, class_balance: float) -> np.ndarray:
    """Each file weighs recipe.weight * sqrt(rows): big sets count more, but not linearly."""
    files = np.array([row.file for row in rows])
    weights = np.ones(len(rows))
    for name in np.unique(files):
        mask = files == name
        weights[mask] = recipe.for_file(name).weight * np.sqrt(mask.sum()) / mask.sum()
        classes = np.unique(targets[mask])
        if class_balance and len(classes) > 1:
            for label in classes:
                both = mask & (targets == label)
                weights[both] *= (mask.sum() / (len(classes) * both.sum())) ** class_balance
    return weights / weights.mean()


@dataclass
class TrainReport:
    out: Path
    version: str
    counts: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    seconds: float = 0.0


def _task_rows(corpus: Corpus, recipe: Recipe, split: str, task: str) -> list[Row]:
    excluded = {name for name, rules in recipe.files.items() if rules.exclude}
    rows = corpus.select(split, exclude_files=excluded)
    return [row for row in rows if getattr(row, task) is not None]


def train(data_dir: str | Path, out_dir: str | Path, *, cache_dir: Optional[Path] = None,
          log: Log = lambda _: None, ngrams: bool = True, keep_heads: Optional["Heads"] = None,
          calibration_sample: Optional[int] = None) -> TrainReport:
    """Train both heads on our train split, calibrate on the calibration split, save heads.npz.

    `keep_heads`: take the two heads' weights and temperatures from this model instead of
    training them again (same recipe, same seeds: the same weights) and redo only what sits on
    top (operating points, the n-gram model and its blend); needs the calibration rows encoded only.
    `calibration_sample`: what is fitted on calibration rows (temperatures, blend, operating points,
    early stopping) uses at most this many rows per file (a fixed hash sample).

    `ngrams`: also train the character n-gram model and blend it into sentiment (shipped: +0.03
    macro-F1 on held-out rows, see the model card).
    """
    from monitor.analysis.embedded import HEADS_FILE, Heads

    started = time.monotonic()
    recipe = load_recipe()
    corpus = load_corpus(data_dir, recipe)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    heads: dict[str, Head] = {}
    counts: dict[str, dict] = {}
    calibration: dict[str, float] = {}
    ngram_model: Optional[NgramModel] = None
    blend: Optional[Blend] = None
    for task, classes, config in (("sentiment", SENTIMENT_LABELS, SENTIMENT_CONFIG),
                                  ("abuse", ("calm", "angry"), ANGER_CONFIG)):
        train_rows = _task_rows(corpus, recipe, "train", task)
        calib_rows = _task_rows(corpus, recipe, "calibration", task)
        if len({getattr(row, task) for row in train_rows}) < 2:
            if task == "sentiment":
                raise ValueError(f"no rows labelled negative/neutral/positive to train on in {data_dir}")
            log(f"{task}: no labelled rows in {data_dir}; keeping the shipped {task} head")
            heads[task] = Heads.load().anger
            counts[task] = {"train": {}, "calibration": {}, "kept": Heads.load().version}
            continue
        if not calib_rows:
            log(f"{task}: no calibration rows (too little data); calibrating on the training rows")
            calib_rows = train_rows
        calib_rows = sample_per_file(calib_rows, calibration_sample)
        log(f"{task}: {len(train_rows)} training rows, {len(calib_rows)} calibration rows")
        x_calib = encode_rows(corpus, calib_rows, data_dir, cache_dir, log)
        y_train = np.array([getattr(row, task) for row in train_rows])
        y_calib = np.array([getattr(row, task) for row in calib_rows])
        w_train = row_weights(train_rows, y_train, recipe, CLASS_BALANCE)
        w_calib = row_weights(calib_rows, y_calib, recipe, 0.0)
        if keep_heads is not None:
            kept = keep_heads.sentiment if task == "sentiment" else keep_heads.anger
            head = Head(kept.classes, kept.w1, kept.b1, kept.w2, kept.b2, kept.mean, kept.temperature)
            log(f"{task}: head kept from {keep_heads.version}")
        else:
            x_train = encode_rows(corpus, train_rows, data_dir, cache_dir, log)
            head = train_head(x_train, y_train, w_train, tuple(classes), TrainConfig(**config),
                              x_calib, y_calib, w_calib)
            head.temperature = fit_temperature(head, x_calib, y_calib, w_calib)
        head.classes = tuple(classes)
        if task == "abuse":
            head.bias_shift = anger_operating_point(head.predict_proba(x_calib)[:, 1], y_calib,
                                                    [row.file for row in calib_rows])
            log(f"abuse: 0.5 moved to p = {1 / (1 + np.exp(head.bias_shift[1])):.2f} of the calibrated head")
        calibration[task] = round(weighted_log_loss(head.predict_proba(x_calib), y_calib, w_calib), 4)
        log(f"{task}: temperature {head.temperature:.2f}, calibration log-loss {calibration[task]}")
        heads[task] = head
        if task == "sentiment" and ngrams:
            ngram_model, blend = _train_ngrams(train_rows, calib_rows, y_train, w_train, y_calib, w_calib,
                                          head.predict_proba(x_calib), tuple(classes), log)
            calibration["sentiment_blend"] = round(weighted_log_loss(
                blend.apply(head.predict_proba(x_calib),
                            ngram_model.predict_proba([clean(r.text) for r in calib_rows])),
                y_calib, w_calib), 4)
        counts[task] = {
            "train": _count(train_rows), "calibration": _count(calib_rows),
        }
    weights = b"".join(h.w1.astype(np.float16).tobytes() + (b"" if h.bias_shift is None else h.bias_shift.tobytes())
                       for h in heads.values())
    if ngram_model is not None:
        weights += ngram_model.weights.astype(np.float16).tobytes()
    fingerprint = hashlib.sha1(weights).hexdigest()[:8]
    version = f"heads-{ENCODER_NAME}-{fingerprint}"
    used = sorted({name for task in counts.values() for name in task["train"]})
    meta = {
        "version": version, "encoder": ENCODER_NAME, "features": FEATURES,
        "trained_on": {name: recipe.for_file(name).licence for name in used},
        "excluded": {name: rules.exclude for name, rules in recipe.files.items() if rules.exclude},
        "split_seed": recipe.seed, "counts": counts, "calibration_log_loss": calibration,
    }
    if ngram_model is not None and blend is not None:
        meta["ngrams"] = {"n": [MIN_N, MAX_N], "buckets": len(ngram_model.weights),
                          "blend_share": round(blend.share, 4), "blend_temperature": round(blend.temperature, 4)}
    Heads(heads["sentiment"], heads["abuse"], meta, ngram_model, blend).save(out / HEADS_FILE)
    return TrainReport(out / HEADS_FILE, version, counts, calibration, time.monotonic() - started)


def anger_operating_point(p_angry: np.ndarray, y: np.ndarray, files: Sequence[str],
                          min_precision: float = ANGER_MIN_PRECISION) -> np.ndarray:
    """Log-prior shift that puts the head's 0.5 where recall is highest at `min_precision` (calibration rows).

    Precision and recall are means over files (each file the same weight); a shift rather than a
    new threshold keeps "angry at 0.5" meaning the same everywhere the score is read.
    """
    files = np.asarray(files)
    best_t, best_recall = 0.5, -1.0
    for t in np.arange(0.10, 0.91, 0.01):
        precision, recall = [], []
        for name in np.unique(files):
            mask = files == name
            hit = p_angry[mask] >= t
            angry = y[mask] == 1
            if angry.sum() >= 20:
                recall.append(float(hit[angry].mean()))
                precision.append(float(angry[hit].mean()) if hit.any() else 1.0)
        if precision and np.mean(precision) >= min_precision and np.mean(recall) > best_recall:
            best_t, best_recall = float(t), float(np.mean(recall))
    return np.array([0.0, -np.log(best_t / (1 - best_t))], np.float32)


def _train_ngrams(train_rows: Sequence[Row], calib_rows: Sequence[Row], y_train: np.ndarray, w_train: np.ndarray,
                  y_calib: np.ndarray, w_calib: np.ndarray, head_calib: np.ndarray, classes: tuple[str, ...],
                  log: Log) -> tuple[NgramModel, Blend]:
    """Character n-gram model on the head's rows and weights; the blend is fitted on calibration rows."""
    hashed_train = hash_texts([clean(row.text) for row in train_rows])
    hashed_calib = hash_texts([clean(row.text) for row in calib_rows])
    model = train_ngram_model(hashed_train, y_train, w_train, classes, NgramConfig(**NGRAM_CONFIG),
                              hashed_calib, y_calib, w_calib)
    model.temperature = fit_ngram_temperature(model.logits(hashed_calib), y_calib, w_calib)
    blend = fit_blend(head_calib, model.predict_proba(hashed_calib), y_calib, w_calib,
                      lambda predicted: score(y_calib, predicted, classes).as_dict()["macro_f1"])
    log(f"n-grams: temperature {model.temperature:.2f}; blend share of the head {blend.share:.2f}, "
        f"temperature {blend.temperature:.2f}")
    return model, blend


def _count(rows: Sequence[Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.file] = counts.get(row.file, 0) + 1
    return counts
