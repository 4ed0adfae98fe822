"""Which language a text is in: for posts whose analysis did not say, and for checking drafts.

py3langid alone mislabels short Russian as Macedonian or Uzbek, so the candidates are limited
to languages a European shop meets, and the script decides first where it can: Cyrillic without
Ukrainian/Belarusian letters is Russian; Latin with Polish letters is Polish.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

CANDIDATES = ("pl", "ru", "en", "uk", "be", "de", "cs", "sk", "fr", "es", "it", "pt", "nl", "lt", "lv",
              "et", "ro", "hu", "sv", "tr")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_BELARUSIAN = re.compile(r"[ўЎ]")
_POLISH = re.compile(r"[ąęłńśźżĄĘŁŃŚŹŻ]")
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+|\S+@\S+")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def detect(text: str, min_letters: int = 4) -> Optional[str]:
    """An ISO 639-1 code, or None when the text has too few letters to tell."""
    sample = _NOISE.sub(" ", text or "")[:4000]
    cyrillic = len(_CYRILLIC.findall(sample))
    latin = len(_LATIN.findall(sample))
    if cyrillic + latin < min_letters:
        return None
    if cyrillic > latin:
        if _UKRAINIAN.search(sample):
            return "uk"
        if _BELARUSIAN.search(sample):
            return "be"
        return "ru"
    if len(_POLISH.findall(sample)) >= 1 and latin >= 8:
        return "pl"
    language, _ = _identifier().classify(sample)
    return language


def detect_confident(text: str) -> Optional[str]:
    """Like `detect`, but None for texts under two words, where a verdict would be a guess."""
    if len(re.findall(r"\w{2,}", text or "")) < 2:
        return None
    return detect(text)
