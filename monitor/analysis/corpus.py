"""Labelled CSV data for training and evaluation, and the held-out split.

Reads every `*.csv` / `*.csv.gz` of a folder with at least the columns `text,label,lang`
(the layout of ../shared/data). The split is a hash of the text (of the parent review for
sentence rows), so the same text never sits on both sides and the split does not depend on
row order, on which files are present or on the machine.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional, Sequence

SENTIMENT_LABELS = ("negative", "neutral", "positive")
REQUIRED_COLUMNS = ("text", "label", "lang")
SPLITS = ("heldout", "calibration", "train", "all")
_WORDS = re.compile(r"\w+", re.U)
_SHINGLE = 6


class CorpusError(Exception):
    """A data folder or file that cannot be used, worded for the person who gave it."""


@dataclass(frozen=True)
class FileRecipe:
    name: str
    exclude: Optional[str] = None
    licence: str = "unknown"
    sentiment: bool = True
    sentiment_rows: Optional[re.Pattern] = None
    abuse_rows: Optional[re.Pattern] = None
    abuse_positive: Optional[re.Pattern] = None
    weight: float = 1.0
    group_with: Optional[str] = None


@dataclass(frozen=True)
class Recipe:
    seed: str
    heldout_percent: int
    calibration_percent: int
    files: dict[str, FileRecipe]

    def for_file(self, name: str) -> FileRecipe:
        return self.files.get(name) or FileRecipe(name=name)


@dataclass
class Row:
    text: str
    label: str
    lang: str
    file: str
    orig_label: str = ""
    split: str = "train"            # ours: heldout / calibration / train
    sentiment: Optional[int] = None  # index into SENTIMENT_LABELS, None when the row has no polarity
    abuse: Optional[int] = None      # 1 angry/abusive, 0 not, None unknown


@dataclass
class Corpus:
    rows: list[Row] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def select(self, split: str = "all", *, exclude_files: Iterable[str] = ()) -> list[Row]:
        skip = set(exclude_files)
        return [row for row in self.rows if row.file not in skip and (split == "all" or row.split == split)]


def load_recipe() -> Recipe:
    raw = tomllib.loads(resources.files("monitor.analysis").joinpath("data/training.toml").read_text("utf-8"))
    compile_ = lambda value: re.compile(value) if value else None  # noqa: E731
    files = {
        name: FileRecipe(
            name=name,
            exclude=body.get("exclude"),
            licence=body.get("licence", "unknown"),
            sentiment=body.get("sentiment", True),
            sentiment_rows=compile_(body.get("sentiment_rows")),
            abuse_rows=compile_(body.get("abuse_rows")),
            abuse_positive=compile_(body.get("abuse_positive")),
            weight=float(body.get("weight", 1.0)),
            group_with=body.get("group_with"),
        )
        for name, body in raw.get("files", {}).items()
    }
    split = raw["split"]
    return Recipe(str(split["seed"]), int(split["heldout_percent"]), int(split["calibration_percent"]), files)


def file_stem(path: Path) -> str:
    name = path.name
    for suffix in (".csv.gz", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def find_files(folder: str | Path) -> list[Path]:
    path = Path(folder).expanduser()
    if not path.exists():
        raise CorpusError(f"data folder not found: {path}")
    if not path.is_dir():
        raise CorpusError(f"not a folder: {path}")
    files = sorted(p for p in path.iterdir() if p.is_file() and (p.name.endswith(".csv") or p.name.endswith(".csv.gz")))
    if not files:
        raise CorpusError(f"no *.csv or *.csv.gz files in {path}")
    return files


def _read_dicts(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise CorpusError(
                f"{path.name}: missing column(s) {', '.join(missing)} "
                f"(need at least {','.join(REQUIRED_COLUMNS)}; found {','.join(columns) or 'none'})"
            )
        return [{(k or "").strip(): (v or "") for k, v in record.items()} for record in reader]
    except CorpusError:
        raise
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"{path.name}: cannot be read as UTF-8 CSV ({type(exc).__name__}: {exc})") from None


def _norm_words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _bucket(recipe: Recipe, key: str) -> int:
    digest = hashlib.sha1(f"{recipe.seed}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def split_of(recipe: Recipe, key: str) -> str:
    bucket = _bucket(recipe, key)
    if bucket < recipe.heldout_percent:
        return "heldout"
    if bucket < recipe.heldout_percent + recipe.calibration_percent:
        return "calibration"
    return "train"


def _group_index(records: list[dict[str, str]]) -> dict[tuple[str, ...], str]:
    """Every 6-word window of the parent texts -> the parent's key."""
    index: dict[tuple[str, ...], str] = {}
    for record in records:
        words = _norm_words(record["text"])
        key = " ".join(words)
        for start in range(max(1, len(words) - _SHINGLE + 1)):
            index.setdefault(tuple(words[start:start + _SHINGLE]), key)
    return index


def load_corpus(folder: str | Path, recipe: Optional[Recipe] = None) -> Corpus:
    """All rows of all files, labelled for the heads and assigned to our split."""
    recipe = recipe or load_recipe()
    paths = find_files(folder)
    by_name = {file_stem(p): p for p in paths}
    records = {name: _read_dicts(path) for name, path in by_name.items()}
    corpus = Corpus(files=list(by_name))
    for name, file_records in records.items():
        rules = recipe.for_file(name)
        parents = _group_index(records[rules.group_with]) if rules.group_with in records else None
        for record in file_records:
            text = record["text"]
            if not text.strip():
                continue
            words = _norm_words(text)
            key = " ".join(words)
            if parents is not None and len(words) >= _SHINGLE:
                key = parents.get(tuple(words[:_SHINGLE]), key)
            label = record["label"].strip().lower()
            orig = record.get("orig_label", "")
            sentiment = None
            if rules.sentiment and label in SENTIMENT_LABELS:
                if rules.sentiment_rows is None or rules.sentiment_rows.search(orig):
                    sentiment = SENTIMENT_LABELS.index(label)
            abuse = None
            if rules.abuse_rows is not None and rules.abuse_rows.search(orig):
                abuse = int(bool(rules.abuse_positive and rules.abuse_positive.search(orig)))
            corpus.rows.append(Row(
                text=text, label=label, lang=record["lang"].strip().lower() or "und", file=name,
                orig_label=orig, split=split_of(recipe, key), sentiment=sentiment, abuse=abuse,
            ))
    return corpus


def sample_per_file(rows: Sequence[Row], cap: Optional[int], seed: str = "sample") -> list[Row]:
    """At most `cap` rows of each file, the same ones every time (a hash of the text, not file order)."""
    if not cap:
        return list(rows)
    by_file: dict[str, list[Row]] = {}
    for row in rows:
        by_file.setdefault(row.file, []).append(row)
    keep: set[int] = set()
    for file_rows in by_file.values():
        ranked = sorted(file_rows, key=lambda row: hashlib.sha1(f"{seed}\x00{row.text}".encode("utf-8")).digest())
        keep.update(id(row) for row in ranked[:cap])
    return [row for row in rows if id(row) in keep]
