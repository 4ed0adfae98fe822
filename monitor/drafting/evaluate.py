"""Drafts for real posts, measured: is each draft in the post's language, does it pass the check?

`evaluate_folder` reads every *.csv / *.csv.gz in a folder (columns at least `text,lang`; a
`label` column, when present, stands in for the analysis sentiment), samples a bounded number
of rows per file (deterministically), drafts replies in batches and sums the results per
language. The CLI (`monitor drafts eval`) only prints what this returns.
"""
from __future__ import annotations

import csv
import gzip
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence

from monitor.analysis.base import Analysis, PostView
from monitor.drafting.base import Drafter, DraftSuggestion
from monitor.drafting.safety import blocking

REQUIRED_COLUMNS = ("text", "lang")
MAX_FIELD = 1_000_000
csv.field_size_limit(MAX_FIELD)


class EvalInputError(ValueError):
    """The folder or a file in it cannot be evaluated; the message names it."""


@dataclass
class LanguageFigures:
    posts: int = 0
    drafts: int = 0                      # drafts with text (do_not_reply has none)
    in_language: int = 0
    passing: int = 0
    topics: Counter = field(default_factory=Counter)
    strategies: Counter = field(default_factory=Counter)
    findings: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        share = lambda n: round(n / self.drafts, 4) if self.drafts else 0.0  # noqa: E731
        return {"posts": self.posts, "drafts": self.drafts, "in_language": share(self.in_language),
                "passing": share(self.passing), "topics": dict(self.topics.most_common()),
                "strategies": dict(self.strategies.most_common()), "findings": dict(self.findings.most_common())}


@dataclass
class EvalReport:
    files: list[str]
    languages: dict[str, LanguageFigures]
    samples: list[tuple[PostView, DraftSuggestion]]

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "languages": {language: figures.as_dict() for language, figures in sorted(self.languages.items())},
            "samples": [{"language": post.language, "post": post.text, "topic": draft.topic, "strategy": draft.strategy,
                         "draft": draft.text, "findings": [f.as_dict() for f in draft.findings],
                         "notes": list(draft.notes)} for post, draft in self.samples],
        }


def find_files(folder: str | Path) -> list[Path]:
    """The *.csv / *.csv.gz files of a folder, found as `monitor model eval` finds them."""
    from monitor.analysis.corpus import CorpusError, find_files as find_corpus_files
    try:
        return find_corpus_files(folder)
    except CorpusError as exc:
        raise EvalInputError(str(exc)) from None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
        with raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise EvalInputError(f"{path.name}: missing column(s) {', '.join(missing)} "
                                     f"(found: {', '.join(reader.fieldnames or ()) or 'none'})")
            yield from reader
    except (OSError, EOFError, gzip.BadGzipFile, csv.Error) as exc:
        raise EvalInputError(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})") from None


def sample_rows(path: Path, per_file: int, seed: int = 13) -> list[dict[str, str]]:
    """Up to `per_file` rows with text, chosen uniformly (reservoir sampling, bounded memory)."""
    rng = random.Random(f"{seed}:{path.name}")
    chosen: list[dict[str, str]] = []
    seen = 0
    for row in _rows(path):
        if not (row.get("text") or "").strip():
            continue
        seen += 1
        if len(chosen) < per_file:
            chosen.append(row)
        else:
            slot = rng.randrange(seen)
            if slot < per_file:
                chosen[slot] = row
    return chosen


def _stand_in_analysis(row: dict[str, str]) -> Analysis:
    label = (row.get("label") or "").strip().lower()
    sentiment = label if label in ("negative", "neutral", "positive") else "neutral"
    return Analysis(language=(row.get("lang") or None), sentiment=sentiment, scores={}, flags=(),
                    severity=0.7 if sentiment == "negative" else 0.1, flagged=sentiment == "negative",
                    model_version="eval-label")


def evaluate_folder(folder: str | Path, drafter: Drafter, *, per_file: int = 100, show: int = 0,
                    platform: str = "", batch_size: int = 256, analyser=None) -> EvalReport:
    files = find_files(folder)
    posts: list[PostView] = []
    analyses: list[Analysis] = []
    for path in files:
        for row in sample_rows(path, per_file):
            language = (row.get("lang") or "").strip().lower() or None
            posts.append(PostView(text=row["text"], platform=platform, kind="comment", language=language))
            analyses.append(_stand_in_analysis(row))
    if analyser is not None:
        analyses = [replace_language(a, p.language) for a, p in zip(analyser.assess(posts), posts)]
    drafts: list[DraftSuggestion] = []
    for start in range(0, len(posts), batch_size):
        drafts += drafter.draft(posts[start:start + batch_size], analyses[start:start + batch_size])
    languages: dict[str, LanguageFigures] = {}
    for post, draft in zip(posts, drafts):
        figures = languages.setdefault(post.language or "unknown", LanguageFigures())
        figures.posts += 1
        figures.topics[draft.topic] += 1
        figures.strategies[draft.strategy] += 1
        if not draft.text:
            continue
        figures.drafts += 1
        codes = {finding.code for finding in draft.findings}
        figures.findings.update(codes)
        if draft.language == post.language and "language" not in codes:
            figures.in_language += 1
        if not blocking(draft.findings):
            figures.passing += 1
    return EvalReport([p.name for p in files], languages, _samples(posts, drafts, show))


def replace_language(analysis: Analysis, language: Optional[str]) -> Analysis:
    """The CSV's language is ground truth for this evaluation."""
    from dataclasses import replace

    return replace(analysis, language=language or analysis.language)


def _samples(posts: Sequence[PostView], drafts: Sequence[DraftSuggestion], show: int) -> list:
    """`show` pairs spread over languages and files, chosen deterministically."""
    if show <= 0:
        return []
    by_language: dict[str, list[int]] = {}
    for index, post in enumerate(posts):
        by_language.setdefault(post.language or "unknown", []).append(index)
    rng = random.Random(7)
    for indexes in by_language.values():
        rng.shuffle(indexes)
    picked: list[int] = []
    while len(picked) < show and any(by_language.values()):
        for indexes in by_language.values():
            if indexes and len(picked) < show:
                picked.append(indexes.pop())
    return [(posts[i], drafts[i]) for i in picked]
