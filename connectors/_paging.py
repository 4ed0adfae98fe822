"""Bookmarks, newest-first pagination and payload reading, shared by the connectors.

Every platform here lists newest first, so a run cannot know the new bookmark until it has paged
back to the old one. The rule (Singer's "progress, then finalise"): pages are yielded without a
bookmark while walking back, and the new bookmark is yielded once the walk reached the old one,
on an empty closing `Page`. A failure or a break-off half-way therefore leaves the stored
bookmark where it was; the next run walks the same way again and the store de-duplicates. A run
that stops at `max_pages` records where to go on from (`StreamWalk`), so nothing is skipped.

Each stream (mentions, search, comments, ...) has its own bookmark (JSON text) and runs in
`isolated`: a stream that fails ends as an error page and the next stream is read. Items are read
one by one (`read_entries`): one that cannot be read becomes an `Unreadable` entry, quarantined
by the collector while the walk goes on past it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from connectors._scrub import scrub
from connectors.base import (AuthExpired, CollectedItem, ConnectorError, MalformedPayload, Page, RateLimited,
                             Unreadable)

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


def load_stream(bookmarks: Mapping[str, Optional[str]], stream: str, source: str) -> Any:
    """One stream's stored value (None: start from the back-fill window; an unreadable one is
    logged and treated the same: re-collecting is harmless, the store de-duplicates)."""
    text = bookmarks.get(stream)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        log.warning("source %s: stored bookmark of %s is not readable; collecting from the back-fill window",
                    source, stream)
        return None


def close_stream(stream: str, value: Any) -> Page:
    """The closing page of a stream that was read to its end: its new bookmark."""
    return Page([], json.dumps(value, sort_keys=True, separators=(",", ":")), stream=stream)


def entries_page(entries: Iterable["Entry"], stream: str) -> Optional[Page]:
    """One page of a stream from read entries: the items, and the unreadable ones for quarantine
    (None when the page held neither)."""
    entries = list(entries)
    items = [e.item for e in entries if e.item is not None]
    unreadable = [e.unreadable for e in entries if e.unreadable is not None]
    return Page(items, stream=stream, unreadable=unreadable) if items or unreadable else None


def walk_listing(walk: "StreamWalk", stream: str, fetch: Callable[[Optional[str]], Any]) -> Iterator[Page]:
    """A stream that is one listing (its cursor the platform's page token or offset): its pages,
    then its closing bookmark."""
    for listing in walk.listings([stream]):
        for entries in walk.walk(listing, fetch):
            page = entries_page(entries, stream)
            if page is not None:
                yield page
    yield close_stream(stream, walk.value())


def isolated(stream: str, pages: Iterator[Page], source: str) -> Iterator[Page]:
    """A stream's pages; its failure becomes an error page so that the next stream is read.
    A rate limit or a refused token concerns the whole source and goes on up."""
    try:
        yield from pages
    except (RateLimited, AuthExpired):
        raise
    except ConnectorError as exc:
        yield Page([], stream=stream, error=exc)
    except Exception as exc:  # a connector bug in one stream must not starve the others
        log.debug("source %s: stream %s crashed", source, stream, exc_info=True)
        yield Page([], stream=stream, error=ConnectorError(
            scrub(f"unexpected {type(exc).__name__} in stream {stream}: {exc}")[:500]))


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
    e.g. the brand's own reply). An unreadable thing has `unreadable` set and its time when it
    could still be read (None otherwise: it is always handed over, quarantine keeps it once)."""

    created: Optional[datetime]
    external_id: str
    item: Optional[CollectedItem]
    unreadable: Optional[Unreadable] = None


def unreadable_reason(exc: BaseException) -> str:
    if isinstance(exc, MalformedPayload):
        return str(exc)
    return scrub(f"unexpected {type(exc).__name__} reading the item: {exc}")[:500]


def read_entries(raws: Iterable[Any], read: Callable[[Any], Optional[Entry]], *, payload: Callable[[Any], Any] = lambda raw: raw,
                 when: Callable[[Any], Optional[datetime]] = lambda raw: None) -> list[Entry]:
    """Read each item on its own: one that cannot be read (`MalformedPayload`, or any parser
    error on odd data) becomes an Unreadable entry with `payload(raw)` (what `read_item` takes)."""
    entries = []
    for raw in raws:
        try:
            entry = read(raw)
            if entry is not None and entry.item is not None:
                entry = Entry(entry.created, entry.external_id, checked(entry.item), entry.unreadable)
            if entry is not None:  # None: not an item at all (e.g. a kind this stream does not hold)
                entries.append(entry)
        except ConnectorError as exc:
            if not isinstance(exc, MalformedPayload):
                raise  # a network problem while reading (a lookup), not the item's fault
            entries.append(_unreadable_entry(raw, exc, payload, when))
        except Exception as exc:
            entries.append(_unreadable_entry(raw, exc, payload, when))
    return entries


def checked(item: CollectedItem) -> CollectedItem:
    """An item as the store needs it: an id (the store de-duplicates on it), a link that is text."""
    if not isinstance(item.external_id, str) or not item.external_id.strip():
        raise MalformedPayload("the item has an empty id")
    if item.url is not None and not isinstance(item.url, str):
        return replace(item, url=None)
    return item


def _unreadable_entry(raw: Any, exc: BaseException, payload: Callable[[Any], Any],
                      when: Callable[[Any], Optional[datetime]]) -> Entry:
    external_id = raw.get("id") if isinstance(raw, dict) else None
    external_id = str(external_id)[:200] if isinstance(external_id, (str, int)) and not isinstance(external_id, bool) else None
    try:
        created = when(raw)
    except Exception:
        created = None
    return Entry(created, external_id or "", None, Unreadable(unreadable_reason(exc), payload(raw), external_id))


def time_of(raw: Any, key: str) -> Optional[datetime]:
    """An unreadable item's time, when that much can still be read."""
    if not isinstance(raw, dict):
        return None
    try:
        return parse_time(raw.get(key), "item")
    except MalformedPayload:
        return None


FetchPage = Callable[[Optional[str]], tuple[list[Entry], Optional[str]]]


class StreamWalk:
    """One stream's walk in one run, over one or more newest-first listings (a subreddit's
    comments; the comments of each Facebook post), bounded by `max_pages` pages per listing.

    The stream's stored value is its floor mark (`{"recent": ...}`: everything newer is stored).
    When a listing stops at `max_pages` before reaching the floor, the run ends with the floor
    kept and a `resume` entry added: the mark to finalise to (`top`, covering what this run
    stored) and, per unfinished listing, the cursor to go on from (`after`). The next run walks
    only those listings, from their cursors down to the floor (Singer's "progress, then
    finalise"), and then finalises to `top`; items newer than `top` wait for the run after. A
    value without `resume` (as stored before resuming existed) is a plain floor.

    A resume cursor the platform no longer accepts (an error, or an empty page where more was
    promised) makes that listing walk from the newest again: re-collecting is harmless, the
    store de-duplicates.

    When the listings themselves come from a listing (a page's posts, an account's media) that
    stops at `max_pages` (`walk_outer`), the run also records that listing's cursor (`outer`) and
    keeps the floor: the following runs sweep on from there (the listings found on the new
    pages, plus the unfinished ones) until the listing of listings ends, and only then finalise.
    """

    def __init__(self, value: Any, *, floor_time: datetime, max_pages: int, where: str):
        self.floor = Mark.load(value)
        self.floor_time, self.max_pages, self.where = floor_time, max_pages, where
        self.top, self.pending, self.outer_from = self._load_resume(value)
        self.seen: list[tuple[datetime, str]] = []
        self.left: dict[str, str] = {}  # listings stopped at max_pages -> the cursor to go on from
        self.outer_left: Optional[str] = None  # where the listing of listings stopped at max_pages

    @property
    def resuming(self) -> bool:
        return bool(self.pending) or self.sweeping

    @property
    def sweeping(self) -> bool:
        """The last run stopped in the listing of listings: this one goes on from there."""
        return self.outer_from is not None

    def _load_resume(self, value: Any) -> tuple[Mark, dict[str, str], Optional[str]]:
        resume = value.get("resume") if isinstance(value, dict) else None
        if resume is None:
            return self.floor, {}, None
        after = resume.get("after") if isinstance(resume, dict) else None
        outer = resume.get("outer") if isinstance(resume, dict) else None
        if not isinstance(after, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                  for k, v in after.items()) \
                or not (outer is None or isinstance(outer, str) and outer):
            log.warning("%s: the stored resume point is not readable; walking from the newest to the "
                        "last finished bookmark", self.where)
            return self.floor, {}, None
        # The top never lies below the floor, even if its stored form is damaged.
        return self.floor.advanced(Mark.load(resume.get("top")).recent), dict(after), outer

    def listings(self, fresh: Sequence[str], known: Optional[Sequence[str]] = None) -> list[str]:
        """What to walk this run: the unfinished listings while resuming (those still `known`,
        when given: a deleted post has nothing left to collect), otherwise `fresh`. While sweeping,
        the unfinished listings and the `fresh` ones (found on the pages read now)."""
        if self.sweeping:
            return list(self.pending) + [key for key in fresh if key not in self.pending]
        if not self.resuming:
            return list(fresh)
        if known is None:
            return list(self.pending)
        gone = [key for key in self.pending if key not in set(known)]
        if gone:
            log.info("%s: %d unfinished listing(s) are no longer listed; nothing left there to resume",
                     self.where, len(gone))
        return [key for key in self.pending if key not in gone]

    def walk(self, key: str, fetch: FetchPage, *, ordered: bool = True) -> Iterator[list[Entry]]:
        """Fetch pages (newest first) until one goes past the floor mark or the back-fill floor,
        or the listing ends. Yields the new entries of each page. `ordered=False` for listings
        whose order is not documented: then every page is read."""
        cursor = self.pending.get(key) if self.resuming else None
        resumed = cursor is not None
        pages = 0
        while pages < self.max_pages:
            try:
                entries, next_cursor = fetch(cursor)
            except (RateLimited, AuthExpired, MalformedPayload):
                raise
            except ConnectorError as exc:  # e.g. Graph's "invalid cursor", Google's "invalid page token"
                if not resumed:
                    raise
                log.warning("%s: the platform refused the resume point (%s); walking from the newest "
                            "again", self.where, exc)
                cursor, resumed = None, False
                continue
            if resumed and not entries:
                log.warning("%s: nothing listed after the resume point; walking from the newest again", self.where)
                cursor, resumed = None, False
                continue
            resumed = False
            pages += 1
            new = [e for e in entries if e.created is None
                   or e.created >= self.floor_time and self.floor.is_new(e.created, e.external_id)]
            self.seen.extend((e.created, e.external_id) for e in new if e.created is not None and e.unreadable is None)
            yield new
            reached = ordered and any(e.created is not None and (e.created < self.floor_time
                                                                  or self.floor.is_behind(e.created)) for e in entries)
            if reached or not next_cursor or not entries:
                return
            if next_cursor == cursor:
                raise MalformedPayload(f"{self.where}: pagination does not advance (same cursor twice)")
            cursor = next_cursor
        assert cursor is not None  # the loop only goes on with a next cursor
        self.left[key] = cursor
        log.warning("%s: stopped after %d pages before reaching the last collected item; the next "
                    "poll goes on from there (raise max_pages or poll more often)", self.where, self.max_pages)

    def walk_outer(self, fetch: Callable[[Optional[str]], tuple[list[Any], Optional[str]]]) -> Iterator[list[Any]]:
        """Pages of the listing of listings (newest first), at most `max_pages`, from where the last
        run stopped while sweeping. Leaving the loop early means the listing was read to its end
        (e.g. past the look-back window); stopping at `max_pages` records where to go on from."""
        cursor = self.outer_from
        resumed = cursor is not None
        pages = 0
        while pages < self.max_pages:
            try:
                data, next_cursor = fetch(cursor)
            except (RateLimited, AuthExpired, MalformedPayload):
                raise
            except ConnectorError as exc:
                if not resumed:
                    raise
                log.warning("%s: the platform refused the resume point of the listing (%s); walking from "
                            "the newest again", self.where, exc)
                cursor, resumed = None, False
                continue
            if resumed and not data:
                log.warning("%s: nothing listed after the resume point of the listing; walking from the "
                            "newest again", self.where)
                cursor, resumed = None, False
                continue
            resumed = False
            pages += 1
            yield data
            if not next_cursor or not data:
                return
            if next_cursor == cursor:
                raise MalformedPayload(f"{self.where}: pagination does not advance (same cursor twice)")
            cursor = next_cursor
        assert cursor is not None
        self.outer_left = cursor
        log.warning("%s: stopped after %d pages of the listing within the look-back window; the next poll "
                    "goes on from there (raise max_pages or page_size, or shorten lookback_days)",
                    self.where, self.max_pages)

    def value(self) -> Optional[dict[str, Any]]:
        """The stream's bookmark value after this run (store it only after the pages it covers)."""
        if self.resuming:
            # Only what is not newer than the top: a walk from the newest (after a refused resume
            # point) saw one listing's newest items, which other listings have not been walked to.
            top_time = self.top.newest
            top = self.top.advanced([s for s in self.seen if top_time is not None and s[0] <= top_time])
        else:
            top = self.floor.advanced(self.seen)
        if not self.left and self.outer_left is None:
            return top.dump()
        resume: dict[str, Any] = {"top": top.dump() or {"recent": {}}, "after": dict(self.left)}
        if self.outer_left is not None:
            resume["outer"] = self.outer_left
        return {**(self.floor.dump() or {}), "resume": resume}


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
