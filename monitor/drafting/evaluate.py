"""Drafts for real posts, measured: would a person send them?

`evaluate_folder` reads every *.csv / *.csv.gz in a folder (columns at least `text,lang`),
samples a bounded number of rows per file (deterministically), runs the production path (the
analyser, then the drafter; without an analyser the file's `label` stands in for the sentiment)
and sums per language: in the post's language and passing the check (necessary, far from
sufficient), and what a careful reader notices: how confident the topics are, how many drafts
restate the customer's own problem, how many distinct sentences 100 drafts use, drafts that
thank a complainer, goodwill offered per topic. `evaluate_gold` does the same on the hand-labelled
gold file and adds topic, strategy and reply-due accuracy. The CLI only prints what these return.
"""
from __future__ import annotations

import csv
import gzip
import io
import random
import re
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


_THANKS = re.compile(r"(?<!\w)(?:thank|thanks|dzięk\w*|спасибо|благодар\w*)", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STEM_WORD = re.compile(r"[^\W\d_]{4,}", re.U)
_STOP = set("""that this with have from your they were been what when will would could about there their which
just really still also only very some more than then them into over after before other because while
jest się było była były przez tylko może jeszcze bardzo który która które tego tym jako mnie nawet
kiedy gdzie jednak więc żeby oraz albo teraz potem niestety produkt produktu
что это как так уже все его она они есть был была было были только если меня мне очень когда тебя
вообще просто даже будет""".split())
CONFIDENCE_BINS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 1.01)


def restates(post: str, draft: str) -> bool:
    """The draft takes the customer's own words: two content-word stems (5 letters) shared."""
    def stems(text: str) -> set[str]:
        return {w.lower()[:5] for w in _STEM_WORD.findall(text or "") if w.lower() not in _STOP}
    return len(stems(post) & stems(draft)) >= 2


def _bin(score: float) -> str:
    for low, high in zip(CONFIDENCE_BINS, CONFIDENCE_BINS[1:]):
        if low <= score < high:
            return f"{low:.1f}-{min(high, 1.0):.1f}"
    return "other"


@dataclass
class LanguageFigures:
    posts: int = 0
    drafts: int = 0                      # drafts with text (do_not_reply and monitor have none)
    in_language: int = 0
    passing: int = 0
    restating: int = 0
    thanks_on_complaint: int = 0
    complaint_drafts: int = 0
    confident: int = 0
    sentences: Counter = field(default_factory=Counter)
    confidence: Counter = field(default_factory=Counter)
    goodwill: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)
    strategies: Counter = field(default_factory=Counter)
    findings: Counter = field(default_factory=Counter)
    gold: Counter = field(default_factory=Counter)       # rows, topic_ok, strategy_ok, due_ok, wrong_topic_facts
    confusion: Counter = field(default_factory=Counter)  # (gold topic, drafted topic) where they differ

    def as_dict(self) -> dict:
        share = lambda n, d=None: round(n / (d if d is not None else self.drafts), 4) if (d if d is not None else self.drafts) else 0.0  # noqa: E731
        out = {"posts": self.posts, "drafts": self.drafts, "in_language": share(self.in_language),
               "passing": share(self.passing), "restating": share(self.restating),
               "distinct_sentences_per_100": round(100 * len(self.sentences) / self.drafts, 1) if self.drafts else 0.0,
               "thanks_on_complaint": self.thanks_on_complaint, "complaint_drafts": self.complaint_drafts,
               "confident_topics": share(self.confident, self.posts),
               "topic_confidence": dict(sorted(self.confidence.items())),
               "goodwill": dict(self.goodwill.most_common()),
               "topics": dict(self.topics.most_common()),
               "strategies": dict(self.strategies.most_common()), "findings": dict(self.findings.most_common())}
        if self.gold["rows"]:
            rows = self.gold["rows"]
            due = self.gold["due_rows"]
            out["gold"] = {"rows": rows, "topic_accuracy": share(self.gold["topic_ok"], rows),
                           "strategy_accuracy": share(self.gold["strategy_ok"], rows),
                           "reply_due_accuracy": share(self.gold["due_ok"], rows),
                           "topic_accuracy_reply_due": share(self.gold["topic_ok_due"], due),
                           "wrong_topic_facts": share(self.gold["wrong_topic_facts"], due),
                           "confusions": {f"{g} -> {d}": n for (g, d), n in self.confusion.most_common(8)}}
        return out


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


def sample_rows(path: Path, per_file: int, seed: int = 13, skip: Optional[set] = None) -> list[dict[str, str]]:
    """Up to `per_file` rows with text, chosen uniformly (reservoir sampling, bounded memory)."""
    rng = random.Random(f"{seed}:{path.name}")
    chosen: list[dict[str, str]] = []
    seen = 0
    for row in _rows(path):
        if not (row.get("text") or "").strip() or (skip and row["text"] in skip):
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
                    platform: str = "", batch_size: int = 256, analyser=None, exclude: Sequence[str] = ()) -> EvalReport:
    """Sampled rows of every file; `exclude` names texts to skip (the gold rows, say)."""
    files = find_files(folder)
    skip = set(exclude)
    posts: list[PostView] = []
    analyses: list[Analysis] = []
    for path in files:
        for row in sample_rows(path, per_file, skip=skip):
            language = (row.get("lang") or "").strip().lower() or None
            posts.append(PostView(text=row["text"], platform=platform, kind="comment", language=language))
            analyses.append(_stand_in_analysis(row))
    return _evaluate(posts, analyses, drafter, [p.name for p in files], show=show, batch_size=batch_size,
                     analyser=analyser)


def evaluate_gold(rows: Sequence, drafter: Drafter, *, show: int = 0, platform: str = "", batch_size: int = 256,
                  analyser=None) -> EvalReport:
    """The gold rows (monitor.drafting.gold.GoldRow) drafted and compared with their labels."""
    posts = [PostView(text=row.text, platform=platform, kind="comment", language=row.lang) for row in rows]
    analyses = [Analysis(language=row.lang, sentiment="negative" if row.reply_due else "neutral", scores={}, flags=(),
                         severity=0.7 if row.reply_due else 0.1, flagged=row.reply_due, model_version="eval-gold")
                for row in rows]
    return _evaluate(posts, analyses, drafter, sorted({row.file for row in rows}), show=show, batch_size=batch_size,
                     analyser=analyser, gold=rows)


def _evaluate(posts, analyses, drafter, files, *, show, batch_size, analyser, gold=None) -> EvalReport:
    if analyser is not None:
        analyses = []
        for start in range(0, len(posts), batch_size):
            batch = posts[start:start + batch_size]
            analyses += [replace_language(a, p.language) for a, p in zip(analyser.assess(batch), batch)]
    drafts: list[DraftSuggestion] = []
    for start in range(0, len(posts), batch_size):
        drafts += drafter.draft(posts[start:start + batch_size], analyses[start:start + batch_size])
    languages: dict[str, LanguageFigures] = {}
    for index, (post, analysis, draft) in enumerate(zip(posts, analyses, drafts)):
        figures = languages.setdefault(post.language or "unknown", LanguageFigures())
        label = gold[index] if gold is not None else None
        figures.posts += 1
        figures.topics[draft.topic] += 1
        figures.strategies[draft.strategy] += 1
        score = _topic_score(draft)
        figures.confidence[_bin(score) if score is not None else "given"] += 1
        if draft.topic != "other" and draft.strategy not in ("monitor", "do_not_reply"):
            figures.confident += 1
        if label is not None:
            _score_gold(figures, label, draft)
        if not draft.text:
            continue
        figures.drafts += 1
        complaint = (label.reply_due and label.strategy in ("four_step", "calm_once")) if label is not None else (
            analysis.sentiment == "negative" or draft.strategy in ("four_step", "calm_once"))
        if complaint:
            figures.complaint_drafts += 1
            if _THANKS.search(draft.text):
                figures.thanks_on_complaint += 1
        if restates(post.text, draft.text):
            figures.restating += 1
        for sentence in _SENTENCE.split(draft.text.split("\n–")[0]):
            figures.sentences[sentence.strip()] += 1
        if draft.goodwill:
            figures.goodwill[draft.topic] += 1
        codes = {finding.code for finding in draft.findings}
        figures.findings.update(codes)
        if draft.language == post.language and "language" not in codes:
            figures.in_language += 1
        if not blocking(draft.findings):
            figures.passing += 1
    return EvalReport(list(files), languages, _samples(posts, drafts, show))


_SCORE = re.compile(r"similarity (\d\.\d+)")


def _topic_score(draft: DraftSuggestion) -> Optional[float]:
    for note in draft.notes:
        if note.startswith(("Topic:", "Topic unsure")):
            match = _SCORE.search(note)
            return float(match.group(1)) if match else None
    return None


def _score_gold(figures: LanguageFigures, label, draft: DraftSuggestion) -> None:
    figures.gold["rows"] += 1
    strategy = draft.strategy
    due = strategy not in ("monitor", "do_not_reply")
    figures.gold["due_ok"] += int(due == label.reply_due)
    figures.gold["strategy_ok"] += int(strategy == label.strategy)
    topic_ok = draft.topic == label.topic or (not label.reply_due and not due)
    figures.gold["topic_ok"] += int(topic_ok)
    if label.reply_due:
        figures.gold["due_rows"] += 1
        figures.gold["topic_ok_due"] += int(draft.topic == label.topic)
        if draft.topic not in ("other", "abuse", label.topic) and due:   # abuse drafts state no facts
            figures.gold["wrong_topic_facts"] += 1
    if not topic_ok:
        figures.confusion[(label.topic, draft.topic)] += 1


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
