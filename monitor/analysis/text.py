"""Text clean-up shared by every backend: HTML, zero-width characters, sentences.

Posts arrive with markup, invisible characters and odd spacing; the models and the risk
lexicon must see the words a person sees, so this runs before anything else looks at a text.
"""
from __future__ import annotations

import html
import re
import unicodedata

MAX_CHARS = 20_000          # longer posts are cut: nobody writes a reputational threat at char 20k

_BLOCK = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
# Inline tags sit inside words ("<b>po</b>zew"): they vanish; any other tag separates words.
_INLINE_TAG = re.compile(r"</?(b|i|u|s|em|strong|span|a|font|small|big|mark|sub|sup|abbr|code)\b[^>]{0,2000}>", re.I)
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
# A sentence ends at . ! ? … (one or more) followed by space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'»”)\]]*\s+(?=\S)|\s*\n+\s*")
_WORDLIKE = re.compile(r"\w", re.U)


def strip_invisible(text: str) -> str:
    """Drop format characters (zero-width space/joiners, BOM, bidi marks) and control chars."""
    return "".join(
        ch for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co")
    )


def clean(text: str) -> str:
    """What a reader sees: markup removed, entities decoded, invisible characters dropped."""
    text = (text or "")[: MAX_CHARS * 2]
    if "<" in text:
        text = _TAG.sub(" ", _INLINE_TAG.sub("", _BLOCK.sub(" ", text)))
    if "&" in text:
        text = html.unescape(text)
    text = strip_invisible(text)
    text = _SPACE.sub(" ", text)
    text = _BLANK_LINES.sub("\n", text)
    return text.strip()[:MAX_CHARS]


def split_sentences(text: str, max_sentences: int = 40, min_chars: int = 3) -> list[str]:
    """Sentences of a cleaned text; very short fragments are glued to the one before.

    Long reviews mix praise and complaint: the models score sentences separately and pool
    them, so one angry sentence in a long review is not averaged away.
    """
    parts = [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]
    sentences: list[str] = []
    for part in parts:
        if sentences and (len(part) < min_chars or not _WORDLIKE.search(part)):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    if len(sentences) > max_sentences:
        # keep the opening and the closing: reviews state their verdict there
        head = max_sentences // 2
        sentences = sentences[:head] + sentences[-(max_sentences - head):]
    return sentences or ([text] if text else [])
