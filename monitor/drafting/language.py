"""Which language a text is in, for posts whose analysis did not say and for checking drafts.

One detector serves the whole application (`monitor.analysis.language`, measured in the model
card); drafting only widens the candidates to the languages a European shop meets, so that a
German edit of a Polish draft is caught as German rather than forced into pl/ru/en.
"""
from __future__ import annotations

import re
from typing import Optional

from monitor.analysis.language import detect as detect_language

CANDIDATES = ("pl", "ru", "en", "uk", "be", "de", "cs", "sk", "fr", "es", "it", "pt", "nl", "lt", "lv",
              "et", "ro", "hu", "sv", "tr")
_LETTER = re.compile(r"[^\W\d_]")


def detect(text: str, min_letters: int = 4) -> Optional[str]:
    """An ISO 639-1 code, or None when the text has too few letters to tell."""
    sample = (text or "")[:4000]
    if len(_LETTER.findall(sample)) < min_letters:
        return None
    return detect_language(sample, CANDIDATES)


def detect_confident(text: str) -> Optional[str]:
    """Like `detect`, but None for texts under two words, where a verdict would be a guess."""
    if len(re.findall(r"\w{2,}", text or "")) < 2:
        return None
    return detect(text)
