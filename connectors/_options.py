"""Reading one `[[sources]]` entry's platform keys. Every problem names the key it is about.

Connectors read their keys through `Options` and call `finish()` last, so a misspelt key is an
error at start-up instead of a setting silently ignored.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from monitor.settings import SettingsError

_MISSING: Any = object()
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Options:
    def __init__(self, name: str, options: Mapping[str, Any]):
        self.name = name
        self._raw = dict(options or {})
        self._read: set[str] = set()

    def error(self, key: str, message: str) -> SettingsError:
        return SettingsError(f"[[sources]] {self.name} {key}", message)

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self._raw:
            return self._raw[key]
        if default is _MISSING:
            raise self.error(key, "missing (this platform needs it)")
        return default

    def text(self, key: str, default: Any = _MISSING, *, pattern: Optional[str] = None,
             hint: str = "") -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # numeric ids written without quotes
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string{hint and ' (' + hint + ')'}")
        value = value.strip()
        if pattern and not re.fullmatch(pattern, value):
            raise self.error(key, f"{value!r} does not look right{hint and ' (' + hint + ')'}")
        return value

    def text_list(self, key: str, default: Any = _MISSING, *, pattern: Optional[str] = None,
                  hint: str = "") -> list[str]:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return list(value)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(key, "must be a list of non-empty strings")
        cleaned = [v.strip() for v in value]
        for v in cleaned:
            if pattern and not re.fullmatch(pattern, v):
                raise self.error(key, f"{v!r} does not look right{hint and ' (' + hint + ')'}")
        return cleaned

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number (got {value!r})")
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high} (got {value})")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false (got {value!r})")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number (got {value!r})")
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high} (got {value})")
        return float(value)

    def url(self, key: str, default: str) -> str:
        """An http(s) base URL without trailing slash. Plain http only to this machine: tokens
        must never cross a network unencrypted."""
        value = self.text(key, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(key, f"must be an http(s) URL (got {value!r})")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise self.error(key, "plain http is allowed only for 127.0.0.1/localhost; use https")
        if parts.query or parts.fragment:
            raise self.error(key, "must not contain a query or fragment")
        return value.rstrip("/")

    def writable_file(self, key: str) -> Optional[Path]:
        """A file the application may write (e.g. a renewed token): its folder must exist."""
        value = self.text(key, None)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.parent.is_dir():
            raise self.error(key, f"the folder {str(path.parent)!r} does not exist")
        if path.is_dir():
            raise self.error(key, "must be a file, not a folder")
        return path

    def finish(self) -> None:
        unknown = sorted(set(self._raw) - self._read)
        if unknown:
            raise self.error(unknown[0], "unknown key for this platform (check the spelling in the README)")
