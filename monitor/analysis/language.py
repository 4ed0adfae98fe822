"""Language of a post: py3langid (ships its own model), restricted to the languages we expect.

Measured on short texts of ../shared/data (see MODEL_CARD.md): unrestricted, py3langid takes
short Russian posts for Serbian, Bulgarian or Belarusian a third of the time; restricted to
the configured languages, and with the script deciding between Cyrillic and Latin candidates,
Russian posts of up to 30 characters are recognised 99.5% of the time. Mentions, links and
hashtags are removed first: they are not in the language of the post.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Sequence

_STRIP = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_BELARUSIAN = re.compile(r"[ўЎ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
UKRAINIAN_MARGIN = 0.9     # without і/ї/є/ґ, a Cyrillic post is Ukrainian only when langid is this sure
CYRILLIC_LANGUAGES = {"ru", "uk", "be", "bg", "sr", "mk", "kk"}
_lock = threading.Lock()


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]):
    identifier = _load_identifier()
    known = set(identifier.nb_classes)
    identifier.set_languages([lang for lang in languages if lang in known])
    return identifier


def _load_identifier():
    """py3langid's model. It ships xz-compressed, and unpacking it takes most of a CLI command's
    time (`monitor approve` checks the language of every text), so the unpacked model is kept
    in the user's cache, keyed by the model file; any trouble there means unpacking as before."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    try:
        return _from_cache(Path(MODEL_DIR) / MODEL_FILE, LanguageIdentifier)
    except Exception:  # the cache is a shortcut, never a reason to fail
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _from_cache(model: Path, identifier_class: Any) -> Any:
    import lzma

    import numpy as np
    from py3langid import modelio

    stat = model.stat()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reply-monitor" / "langid"
    cached = base / f"model-{stat.st_size}-{stat.st_mtime_ns}.npz"
    if not cached.exists():
        base.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=base, suffix=".part", delete=False) as handle:
            with lzma.open(model) as source:
                shutil.copyfileobj(source, handle, length=1 << 20)
        os.replace(handle.name, cached)   # whole or not at all, also with several processes
    try:
        with np.load(cached, allow_pickle=False) as data:
            return identifier_class(np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(),
                                    modelio._to_array(data["nextmove"]), data["out_feat"].tolist(), norm_probs=True,
                                    tk_row=modelio._to_array(data["nextmove_row"]))
    except Exception:
        cached.unlink(missing_ok=True)      # unreadable: the next start unpacks it again
        raise


def detect(text: str, languages: Sequence[str] = ("pl", "ru", "en", "uk", "de")) -> Optional[str]:
    """ISO 639-1 code, or None when the text has no letters to go by."""
    stripped = _STRIP.sub(" ", text)
    cyrillic = len(_CYRILLIC.findall(stripped))
    latin = len(_LATIN.findall(stripped))
    if cyrillic == 0 and latin == 0:
        stripped = text.replace("#", " ")          # only hashtags/mentions: they are words after all
        cyrillic = len(_CYRILLIC.findall(stripped))
        latin = len(_LATIN.findall(stripped))
        if cyrillic == 0 and latin == 0:
            return None
    candidates = tuple(languages)
    if cyrillic > latin:
        allowed = {lang for lang in candidates if lang in CYRILLIC_LANGUAGES}
        if "uk" in allowed and _RUSSIAN_ONLY.search(stripped) and not _UKRAINIAN.search(stripped):
            allowed.discard("uk")                   # ы/э/ъ/ё are not Ukrainian letters
        if "be" in allowed and not _BELARUSIAN.search(stripped):
            allowed.discard("be")
        if not allowed:
            allowed = {lang for lang in candidates if lang in CYRILLIC_LANGUAGES} or set(candidates)
    else:
        allowed = {lang for lang in candidates if lang not in CYRILLIC_LANGUAGES} or set(candidates)
    if len(allowed) == 1:
        return next(iter(allowed))
    with _lock:
        ranked = _identifier(candidates).rank(stripped)
    ranked = [(lang, score) for lang, score in ranked if lang in allowed]
    if not ranked:
        return None
    best, score = ranked[0]
    if best == "uk" and "ru" in allowed and not _UKRAINIAN.search(stripped):
        total = sum(s for lang, s in ranked if lang in ("uk", "ru")) or 1.0
        if score / total < UKRAINIAN_MARGIN:
            return "ru"                             # short Russian posts often look Ukrainian to langid
    return best


def detect_many(texts: Sequence[str], hints: Sequence[Optional[str]] = (),
                languages: Sequence[str] = ("pl", "ru", "en", "uk", "de")) -> list[Optional[str]]:
    """One language per text; a known language (from the platform) is kept as it is."""
    hints = list(hints) + [None] * (len(texts) - len(hints))
    return [hint or detect(text, languages) for text, hint in zip(texts, hints)]
