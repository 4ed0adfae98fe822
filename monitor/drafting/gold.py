"""The hand-labelled gold file, joined to the public data it points at.

A gold file never copies a post: each row names a data file and a row key (the first 12 hex
digits of the SHA-1 of the row's text), with the labels a person gave it
(`tests/drafting/data/GOLD_RULES.md`). `load_gold` reads the named files from the data folder
and returns the labelled texts; a key that is not found is an error naming the row, so a
changed data folder cannot silently shrink the evaluation.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

GOLD_COLUMNS = ("file", "key", "lang", "topic", "strategy", "reply_due")
STRATEGIES = ("four_step", "calm_once", "holding", "answer", "escalate", "monitor", "do_not_reply", "thanks")


class GoldError(ValueError):
    """The gold file or the data it points at cannot be used; the message names which."""


@dataclass(frozen=True)
class GoldRow:
    file: str
    key: str
    lang: str
    topic: str
    strategy: str
    reply_due: bool
    text: str = ""


def row_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def read_labels(path: str | Path) -> list[GoldRow]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in GOLD_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise GoldError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = []
            for number, record in enumerate(reader, 2):
                strategy = record["strategy"].strip()
                if strategy not in STRATEGIES:
                    raise GoldError(f"{path} line {number}: unknown strategy {strategy!r}")
                due = record["reply_due"].strip().lower()
                if due not in ("yes", "no"):
                    raise GoldError(f"{path} line {number}: reply_due must be yes or no, not {due!r}")
                rows.append(GoldRow(record["file"].strip(), record["key"].strip().lower(), record["lang"].strip(),
                                    record["topic"].strip(), strategy, due == "yes"))
            return rows
    except OSError as exc:
        raise GoldError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _texts(path: Path, wanted: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
        with raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as handle:
            for record in csv.DictReader(handle):
                text = record.get("text") or ""
                key = row_key(text)
                if key in wanted and key not in found:
                    found[key] = text
    except (OSError, EOFError, gzip.BadGzipFile, csv.Error) as exc:
        raise GoldError(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})") from None
    return found


def load_gold(gold_path: str | Path, data_dir: str | Path) -> list[GoldRow]:
    """The gold labels with their texts from `data_dir` (e.g. ../shared/data)."""
    labels = read_labels(gold_path)
    folder = Path(data_dir).expanduser()
    by_file: dict[str, set[str]] = {}
    for row in labels:
        by_file.setdefault(row.file, set()).add(row.key)
    texts: dict[tuple[str, str], str] = {}
    for name, keys in by_file.items():
        path = next((folder / f"{name}{suffix}" for suffix in (".csv.gz", ".csv") if (folder / f"{name}{suffix}").exists()),
                    None)
        if path is None:
            raise GoldError(f"{gold_path}: data file {name!r} not found in {folder}")
        for key, text in _texts(path, keys).items():
            texts[(name, key)] = text
    missing = [f"{row.file}:{row.key}" for row in labels if (row.file, row.key) not in texts]
    if missing:
        raise GoldError(f"{gold_path}: {len(missing)} row(s) not found in {folder} (first: {missing[0]})")
    return [GoldRow(**{**row.__dict__, "text": texts[(row.file, row.key)]}) for row in labels]
