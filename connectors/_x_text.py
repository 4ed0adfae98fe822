"""X's text rules, in one place for the connector and the safety check: X escapes `&`, `<` and
`>` in tweet text (unescaped exactly once here, at the boundary), and counts a tweet's length
with weights (twitter-text v3 configuration: code points in the Latin, Cyrillic and general
punctuation ranges weigh 1, everything else 2; an emoji sequence 2; every URL 23)."""
from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
_ESCAPED = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}

URL = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"'«»]{1,2000}"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,6}"
    r"(?:com|pl|ru|net|org|io|ly|me|co|uk|de|eu|info|biz|app|shop|store|xyz|top|click|link|example|su|рф|online|site|gl|to|cc|tk)"
    r"(?![\w-])(?:/[^\s<>\"'«»]{0,2000})?", re.I)


def unescape(text: str) -> str:
    """Tweet text as written: X's `&amp;` `&lt;` `&gt;` decoded once ("&amp;lt;" stays "&lt;")."""
    return _ESCAPED.sub(lambda m: _ENTITIES[m.group(1)], text) if "&" in text else text


def _is_emoji(cp: int) -> bool:
    return (0x1F000 <= cp <= 0x1FAFF) or (0x2600 <= cp <= 0x27BF) or (0x2B00 <= cp <= 0x2BFF) or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D)


def _x_weight(cp: int) -> int:
    if cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or 8242 <= cp <= 8247:
        return 1
    return 2


def weighted_length(text: str) -> int:
    """Length as X counts it (twitter-text v3): URLs 23, emoji sequences 2, CJK and others 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in URL.finditer(text):
        total += _weighted_plain(text[position:match.start()]) + 23
        position = match.end()
    return total + _weighted_plain(text[position:])


def _weighted_plain(text: str) -> int:
    total, index, size = 0, 0, len(text)
    while index < size:
        cp = ord(text[index])
        if _is_emoji(cp) or 0x1F1E6 <= cp <= 0x1F1FF:
            total += 2
            index += 1
            if 0x1F1E6 <= cp <= 0x1F1FF and index < size and 0x1F1E6 <= ord(text[index]) <= 0x1F1FF:
                index += 1                                       # a flag is two regional indicators
            while index < size:                                  # modifiers, variation selectors, ZWJ sequences
                nxt = ord(text[index])
                if nxt in (0xFE0F, 0xFE0E, 0x20E3) or 0x1F3FB <= nxt <= 0x1F3FF or 0xE0020 <= nxt <= 0xE007F:
                    index += 1
                elif nxt == 0x200D and index + 1 < size and _is_emoji(ord(text[index + 1])):
                    index += 2
                else:
                    break
            continue
        total += _x_weight(cp)
        index += 1
    return total
