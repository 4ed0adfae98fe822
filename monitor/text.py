"""Untrusted text made safe to store and analyse: no control or zero-width characters, bounded
length. Emoji, HTML and every script stay as they are (HTML is escaped where it is shown)."""
from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TRUNCATION_MARK = " [...]"


def clean_text(text: object, limit: int) -> str:
    """NFC-normalised text without invisible/control characters, at most `limit` characters."""
    value = text if isinstance(text, str) else ("" if text is None else str(text))
    value = unicodedata.normalize("NFC", value)
    value = _CONTROL.sub("", _INVISIBLE.sub("", value))
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(value) > limit:
        value = value[: limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK
    return value
