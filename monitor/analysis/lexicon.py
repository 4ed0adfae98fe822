"""Reputation-risk signals found by an editable lexicon (`data/risk_signals.toml`).

Matching runs on a normalised copy of the text: lower case, diacritics removed (also in the
patterns, so "sąd" and "sad" match alike), obfuscation undone ("o$zu$ci" -> "oszusci",
"0szust" -> "oszust", Latin look-alikes inside Cyrillic words), and a second, compacted
copy where separators inside words are dropped ("s.c.a.m", "o s z u s t"). Every match
remembers where it came from, so the evidence shown to people is the words they wrote.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Optional, Sequence

from monitor.analysis.text import clean

_EXTRA_FOLD = {"ł": "l", "Ł": "l", "ø": "o", "ß": "ss", "đ": "d", "æ": "ae", "œ": "oe", "ı": "i"}
_LEET = {"$": "s", "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "€": "e",
         "!": "i", "|": "l", "+": "t"}
_LEET_CYRILLIC = {"0": "о", "3": "з", "6": "б", "4": "ч", "@": "а", "$": "с"}
# Latin letters that look like Cyrillic ones: used to undo mixed-script spelling in Cyrillic words.
_LATIN_TO_CYRILLIC = dict(zip("aceopxykmthbr", "асеорхукмтнвг"))
_CYRILLIC_TO_LATIN = {v: k for k, v in _LATIN_TO_CYRILLIC.items()}


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _fold_char(ch: str) -> str:
    """Lower case without diacritics (ё -> е, й -> и, ą -> a, ł -> l)."""
    if ch.isascii():
        return ch.lower()
    if ch in _EXTRA_FOLD:
        return _EXTRA_FOLD[ch]
    decomposed = unicodedata.normalize("NFKD", ch.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)) or ch


def fold_pattern(pattern: str) -> str:
    """A lexicon pattern without diacritics; ASCII (and so regex syntax) is left as written."""
    return "".join(ch if ch.isascii() else _fold_char(ch) for ch in pattern)


@dataclass(frozen=True)
class Normalised:
    text: str
    origin: tuple[int, ...]        # index in the cleaned text of each character of `text`

    def source(self, cleaned: str, start: int, end: int) -> str:
        if start >= end:
            return ""
        return cleaned[self.origin[start]:self.origin[end - 1] + 1]


def _deobfuscate_token(chars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Undo leet and mixed-script spelling inside one whitespace-separated token with letters."""
    letters = [c for c, _ in chars if c.isalpha()]
    if not letters:
        return chars
    cyrillic = sum(_is_cyrillic(c) for c in letters) * 2 > len(letters)
    out = []
    for pos, (c, i) in enumerate(chars):
        if cyrillic:
            c = _LATIN_TO_CYRILLIC.get(c, _LEET_CYRILLIC.get(c, c))
        elif c in _LEET:
            # "!", "|" and "+" stand for letters only between letters ("scam!" keeps its "!")
            inside = 0 < pos < len(chars) - 1 and chars[pos - 1][0].isalnum() and chars[pos + 1][0].isalnum()
            if c not in "!|+" or inside:
                c = _LEET[c]
        elif _is_cyrillic(c):
            c = _CYRILLIC_TO_LATIN.get(c, c)
        out.append((c, i))
    return out


_fold_cached = lru_cache(maxsize=4096)(_fold_char)
_LEET_CHARS = frozenset(_LEET) | frozenset(_LEET_CYRILLIC)
_LATIN_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_CYRILLIC_LOWER = frozenset(chr(c) for c in range(0x430, 0x460))
# tokens that may hide a word: letters mixed with leet characters, or Latin mixed with Cyrillic
_SUSPICIOUS = re.compile(
    r"\S*(?:[^\W\d_]\S*[$0-9@€!|+]|[$0-9@€!|+]\S*[^\W\d_]|[a-z]\S*[\u0400-\u04ff]|[\u0400-\u04ff]\S*[a-z])\S*")


def normalise(cleaned: str) -> Normalised:
    """Folded, de-obfuscated text; only suspicious tokens take the slow path."""
    pieces = [_fold_cached(ch) for ch in cleaned]
    if all(len(piece) == 1 for piece in pieces):
        chars = pieces
        origin: Sequence[int] = range(len(cleaned))
    else:
        chars, origin_list = [], []
        for index, piece in enumerate(pieces):
            for c in piece:
                chars.append(c)
                origin_list.append(index)
        origin = origin_list
    text = "".join(chars)
    present = set(text)
    mixed = not present.isdisjoint(_LATIN_LOWER) and not present.isdisjoint(_CYRILLIC_LOWER)
    if (mixed or not present.isdisjoint(_LEET_CHARS)) and _SUSPICIOUS.search(text):
        chars = list(text)
        for match in _SUSPICIOUS.finditer(text):
            token = [(c, i) for i, c in enumerate(match.group(), start=match.start())]
            for c, i in _deobfuscate_token(token):
                chars[i] = c                      # one character for one: positions do not move
        text = "".join(chars)
    return Normalised(text, tuple(origin))


# single letters with one and the same separator between them: "o s z u s t", "s.c.a.m"
_SPACED = re.compile(r"(?<!\w)\w([ .\-_*])\w(?!\w)(?:\1\w(?!\w)){2,}")


_INNER_SEPARATOR = re.compile(r"(?<=[^\W_])[.\-_*'’`´~^](?=[^\W_])")


def compact(norm: Normalised) -> Normalised:
    """Separators inside words dropped: "s.c.a.m" / "o s z u s t" / "osz-ust" -> one word."""
    text, origin = norm.text, norm.origin
    drop: set[int] = set()
    for match in _SPACED.finditer(text):
        drop.update(pos for pos in range(match.start(), match.end()) if not text[pos].isalnum())
    drop.update(match.start() for match in _INNER_SEPARATOR.finditer(text))
    if not drop:
        return norm
    keep = [pos for pos in range(len(text)) if pos not in drop]
    return Normalised("".join(text[pos] for pos in keep), tuple(origin[pos] for pos in keep))


@dataclass(frozen=True)
class Signal:
    code: str
    reason: str
    weight: float
    pattern: re.Pattern
    negatable: bool = True       # "nie są oszustami" is no accusation; "nie polecam" carries its own "nie"


# Negation: a negator among the few words before a match ("not a scam", "nie są oszustami",
# "не мошенники", "bez zastrzeżeń") or right after it ("Претензий нет", "zastrzeżeń brak") takes the
# match back. The window stops at punctuation and at "but / ale / но", which turn the sentence.
NEGATORS_BEFORE = frozenset("""
not no never without isnt arent wasnt werent dont doesnt didnt cant cannot wont wouldnt shouldnt couldnt aint
havent hasnt hadnt hardly nothing nobody
nie ani bez brak zaden zadna zadne zadnych zadnego zadnej nigdy wcale
не нет ни без никаких никакого никакой никогда вовсе
""".split())
NEGATORS_AFTER = frozenset("нет none brak nie ma zero".split())
_NEGATION_WINDOW = 3
_TURN = frozenset("but ale lecz jednak но однако а".split())
_CLAUSE_END = re.compile(r"[.!?;:,()\n]")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.U)


def _words(text: str) -> list[str]:
    return [w.replace("'", "").replace("’", "") for w in _WORD.findall(text)]


def negated(folded: str, start: int, end: int) -> bool:
    """Whether a negator governs the match folded[start:end] (folded: lower case, no diacritics)."""
    before = _CLAUSE_END.split(folded[:start])[-1]
    words = _words(before)[-_NEGATION_WINDOW:]
    for word in reversed(words):
        if word in _TURN:
            break
        if word in NEGATORS_BEFORE:            # "isn't" is read as "isnt", "don’t" as "dont"
            return True
    after = _CLAUSE_END.split(folded[end:])[0]
    following = _words(after)[:2]
    return bool(following) and (following[0] in NEGATORS_AFTER or " ".join(following) in NEGATORS_AFTER)


@dataclass(frozen=True)
class Match:
    code: str
    reason: str
    weight: float
    evidence: tuple[str, ...]


class LexiconError(ValueError):
    pass


def _compile(code: str, patterns: list[str]) -> re.Pattern:
    parts = []
    for raw in patterns:
        pattern = fold_pattern(raw.strip())
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LexiconError(f"risk signal {code!r}: bad pattern {raw!r}: {exc}") from None
        # a pattern is a word start: it matches the rest of the word too, unless it ends in \b
        parts.append(f"(?:{pattern})" + ("" if pattern.endswith("\\b") else r"\w*"))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.U)


class RiskLexicon:
    """The signals of one lexicon file; `find` returns the signals present in a text."""

    def __init__(self, signals: list[Signal], version: str = ""):
        self.signals = signals
        self.version = version

    @classmethod
    def from_toml(cls, text: str) -> "RiskLexicon":
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LexiconError(f"risk signals file is not valid TOML: {exc}") from None
        signals = []
        for code, body in raw.get("signals", {}).items():
            patterns = [p for lang_patterns in body.get("patterns", {}).values() for p in lang_patterns]
            if not patterns:
                raise LexiconError(f"risk signal {code!r} has no patterns")
            signals.append(Signal(code, str(body["reason"]), float(body.get("weight", 0.3)), _compile(code, patterns),
                                  bool(body.get("negatable", True))))
        return cls(signals, str(raw.get("version", "")))

    @classmethod
    def load(cls, path: Optional[str | Path] = None) -> "RiskLexicon":
        if path:
            return cls.from_toml(Path(path).read_text(encoding="utf-8"))
        return _default()

    def find(self, text: str, *, already_clean: bool = False) -> list[Match]:
        cleaned = text if already_clean else clean(text)
        plain = normalise(cleaned)
        compacted = compact(plain)
        variants = (plain,) if compacted.text == plain.text else (plain, compacted)
        found = []
        for signal in self.signals:
            evidence: list[str] = []
            seen: set[tuple[int, int]] = set()
            for variant in variants:
                for match in signal.pattern.finditer(variant.text):
                    if signal.negatable and negated(variant.text, match.start(), match.end()):
                        continue
                    start = variant.origin[match.start()] if match.end() > match.start() else -1
                    end = variant.origin[match.end() - 1] if match.end() > match.start() else -1
                    if (start, end) in seen or any(s <= start and end <= e for s, e in seen):
                        continue
                    seen.add((start, end))
                    words = " ".join(variant.source(cleaned, match.start(), match.end()).split())
                    if words and words not in evidence:
                        evidence.append(words)
            if evidence:
                found.append(Match(signal.code, signal.reason, signal.weight, tuple(evidence[:3])))
        return found


@lru_cache(maxsize=1)
def _default() -> RiskLexicon:
    text = resources.files("monitor.analysis").joinpath("data/risk_signals.toml").read_text("utf-8")
    return RiskLexicon.from_toml(text)
