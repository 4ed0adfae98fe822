"""Bookmarks, newest-first pagination and payload reading, shared by the connectors.

Every platform here lists newest first, so a run cannot know the new bookmark until it has paged
back to the old one. The rule (Singer's "progress, then finalise"): pages are yielded without a
bookmark while walking back, and the new bookmark is yielded once the walk reached the old one,
on an empty closing `Page`. A failure or a break-off half-way therefore leaves the stored
bookmark where it was; the next run walks the same way again and the store de-duplicates.

A bookmark is a JSON object with one entry per stream (mentions, search, comments, ...), so a
run that finished one stream keeps that progress even when a later stream fails.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from connectors.base import CollectedItem, MalformedPayload

log = logging.getLogger(__name__)


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- bookmarks -------------------------------------------------------------------------------

def load_bookmark(bookmark: Optional[str], source: str) -> dict[str, Any]:
    """The stream -> value map stored in a bookmark; an unreadable one starts afresh (logged):
    re-collecting is harmless, the store de-duplicates."""
    if not bookmark:
        return {}
    try:
        value = json.loads(bookmark)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        log.warning("source %s: stored bookmark is not readable; collecting from the back-fill window", source)
        return {}
    return value


def dump_bookmark(streams: Mapping[str, Any]) -> str:
    return json.dumps(dict(streams), sort_keys=True, separators=(",", ":"))


# Items can show up in an API a little after their timestamp (replication lag); a mark
# therefore remembers the ids of everything in its last few minutes and looks at them again.
OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class Mark:
    """Where a stream stands: the newest item's time, and the ids (with times) of the items in
    the OVERLAP window before it, which count as seen when they turn up again."""

    recent: tuple[tuple[datetime, str], ...] = ()

    @property
    def newest(self) -> Optional[datetime]:
        return max((created for created, _ in self.recent), default=None)

    @classmethod
    def load(cls, value: Any) -> "Mark":
        if not isinstance(value, dict) or not isinstance(value.get("recent"), dict):
            return cls()
        recent = []
        for external_id, stamp in value["recent"].items():
            try:
                created = datetime.fromisoformat(str(stamp))
            except ValueError:
                continue
            recent.append((created.replace(tzinfo=created.tzinfo or UTC), str(external_id)))
        return cls(tuple(sorted(recent)))

    def dump(self) -> Optional[dict[str, Any]]:
        if not self.recent:
            return None
        return {"recent": {external_id: created.isoformat() for created, external_id in self.recent}}

    def is_new(self, created: datetime, external_id: str) -> bool:
        newest = self.newest
        if newest is None or created > newest:
            return True
        if created < newest - OVERLAP:
            return False
        return all(external_id != seen for _, seen in self.recent)

    def is_behind(self, created: datetime) -> bool:
        """Older than everything this mark still looks at: paging further back is pointless."""
        newest = self.newest
        return newest is not None and created < newest - OVERLAP

    def advanced(self, seen: Sequence[tuple[datetime, str]]) -> "Mark":
        everything = dict((external_id, created) for created, external_id in self.recent)
        everything.update((external_id, created) for created, external_id in seen)
        if not everything:
            return self
        newest = max(everything.values())
        return Mark(tuple(sorted((created, external_id) for external_id, created in everything.items()
                                 if created >= newest - OVERLAP)))


# --- newest-first walk -----------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One listed thing: its time and id (for the walk), and the item to store (None: skip it,
    e.g. the brand's own reply)."""

    created: datetime
    external_id: str
    item: Optional[CollectedItem]


FetchPage = Callable[[Optional[str]], tuple[list[Entry], Optional[str]]]


def walk_back(fetch: FetchPage, mark: Mark, *, floor: datetime, max_pages: int,
              where: str, ordered: bool = True) -> Iterator[list[Entry]]:
    """Fetch pages (newest first) until one goes past the mark or the back-fill floor, or the
    listing ends. Yields the new entries of each page. Bounded by `max_pages`. `ordered=False`
    for listings whose order is not documented: then every page is read."""
    cursor: Optional[str] = None
    for _ in range(max_pages):
        entries, next_cursor = fetch(cursor)
        new = [e for e in entries if e.created >= floor and mark.is_new(e.created, e.external_id)]
        yield new
        reached = ordered and any(e.created < floor or mark.is_behind(e.created) for e in entries)
        if reached or not next_cursor or not entries:
            return
        if next_cursor == cursor:
            raise MalformedPayload(f"{where}: pagination does not advance (same cursor twice)")
        cursor = next_cursor
    log.warning("%s: stopped after %d pages without reaching the last collected item; raise "
                "max_pages or poll more often, older items of this run are skipped", where, max_pages)


def backfill_floor(days: int) -> datetime:
    return now_utc() - timedelta(days=days)


# --- reading payloads ------------------------------------------------------------------------

def need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """obj[key], which must exist and have the given type; otherwise MalformedPayload."""
    if not isinstance(obj, dict):
        raise MalformedPayload(f"{where}: expected an object, got {type(obj).__name__}")
    if key not in obj or obj[key] is None:
        raise MalformedPayload(f"{where}: field {key!r} is missing")
    value = obj[key]
    if kind is str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise MalformedPayload(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def optional_int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return max(0, int(value))
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def parse_time(value: Any, where: str) -> datetime:
    """ISO 8601 (with Z, +0000 or an offset) or Unix seconds, as aware UTC."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            text = value.strip()
            if text.endswith("Z"):
                text = text[:-1] + "+00:00"
            if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():  # +0000 -> +00:00
                text = text[:-2] + ":" + text[-2:]
            parsed = datetime.fromisoformat(text)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise MalformedPayload(f"{where}: unreadable time {str(value)[:40]!r}")
