"""The public-safety check: what must never go out in a public reply, each finding with a reason.

It runs on every draft (phrasebook or generated) and on every text a person edits before
approval. It looks at the text a reader would see (HTML stripped, entities decoded, invisible
characters removed), but also reports the invisible characters and markup themselves, because
they can hide words from the approver. Work is capped: huge inputs are cut for scanning (and
reported as over-length), every pattern is bounded, nothing raises.

Lexicons live in `data/safety.toml`, platform limits in `data/platforms.toml`.
"""
from __future__ import annotations

import html
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Optional

from connectors._x_text import URL as _URL, weighted_length  # X's own counting, shared with the connector
from monitor.drafting.base import Finding, SafetyContext
from monitor.drafting.clock import ANSWER_TIME
from monitor.drafting.config import ShopSettings
from monitor.drafting.language import detect_confident

log = logging.getLogger(__name__)

SCAN_LIMIT = 20_000           # characters of a reply that are scanned; a reply is never that long
POST_SCAN_LIMIT = 20_000      # characters of the post used for echo checks
EVIDENCE_CHARS = 60

_INVISIBLE_CATEGORIES = ("Cf", "Cc", "Co", "Cs")
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]{0,20}(?:\s[^<>]{0,500})?/?\s*>|<!--.{0,2000}?-->", re.S)
_SCRIPTY = re.compile(r"javascript:|on(?:error|load|click)\s*=", re.I)
_PLACEHOLDER = re.compile(r"\{\{[^{}]{0,40}\}\}|\{[a-z_][a-z0-9_]{0,40}\}|\$\{[^}]{0,40}\}|%\(?[a-z_]*\)?s\b|\[(?:name|imię|имя|order|numer|номер|date|data|дата|x+|todo|insert[^\]]{0,30})\]|<(?:name|order|customer|imię|имя)>|\bTODO\b|\bXXX\b|\bTBD\b", re.I)

_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_NRB = re.compile(r"(?<!\d)\d{2}(?:[ ]?\d{4}){6}(?!\d)")
_DIGIT_GROUPS = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d \-().]{4,30}\d(?![\w])")
_TRACKING = re.compile(r"\b(?:[A-Z]{2}\d{9}[A-Z]{2}|1Z[0-9A-Z]{16}|JJD\d{8,}|JD\d{16,})\b")
_ORDER = re.compile(
    r"(?:zamówieni\w{0,3}|przesyłk\w{0,2}|paczk\w{0,2}|nr|numer\w{0,2}|order|parcel|tracking|заказ\w{0,2}|посылк\w{0,2}|"
    r"отправлени\w{0,2}|трек\w{0,6}|№|#)\s{0,3}(?:nr\.?|no\.?|number|номер|№|#)?\s{0,3}[:#№]?\s{0,3}([A-Z0-9][A-Z0-9-]{3,30})", re.I)
_STREET = re.compile(
    r"(?<!\w)(?:ul\.|ulic[ayę]|al\.|alej[ai]|aleja|os\.|osiedl[eu]|pl\.|plac[u]?)\s{1,3}[A-ZŁŚŻŹĆĘĄÓŃ][\w.-]{1,40}(?:\s{1,3}[A-ZŁŚŻŹĆ][\w.-]{1,40}){0,2}\s{1,3}\d{1,4}[a-zA-Z]?(?:\s?/\s?\d{1,4})?"
    r"|(?<!\w)(?:ул\.|улиц[аеуы]|пр-т|проспект\w{0,2}|пер\.|переул\w{1,3}|бульвар\w{0,2}|шоссе|наб\.)\s{0,3}[А-ЯЁ]?[\w.-]{1,40},?\s{1,3}(?:д\.|дом)?\s{0,3}\d{1,4}"
    r"|\b\d{1,5}\s{1,3}(?:[A-Z][a-z]{1,20}\s{1,3}){1,3}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.?|Lane|Ln\.|Drive|Dr\.|Boulevard|Blvd\.?|Way|Court|Close|Crescent)(?!\w)")
_POSTCODE = re.compile(r"(?<![\d-])\d{2}-\d{3}(?![\d-])|\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b")
_HONORIFIC = re.compile(
    r"(?<!\w)(?:Pan(?:i|ie|u|a|ią|em)?|Szanown\w{1,4}|Drog\w{1,3}|Mr|Mrs|Ms|Miss|Dr|Dear|(?i:господин\w{0,2}|госпож\w{1,2}|уважаем\w{2,3}|дорог\w{2,3}))"
    r"\.?\s{1,3}([A-ZŁŚŻŹĆ][a-ząćęłńóśźż]{2,20}|[А-ЯЁ][а-яё]{2,20})")
_PATRONYMIC = re.compile(r"(?<!\w)[А-ЯЁ][а-яё]{2,20}\s[А-ЯЁ][а-яё]{2,20}(?:ович|евич|овна|евна|ична|инична)(?!\w)")
_CAPITALISED = re.compile(r"(?<![\w@#.])([A-ZŁŚŻŹĆ][a-ząćęłńóśźż]{2,20}|[А-ЯЁ][а-яё]{2,20})(?![\w])")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:\n]\s*|[\"«„(]\s*)$")
_MONEY = re.compile(
    r"(?<![\w.,])\d[\d\s.,]{0,12}\s?(?:zł|zl\b|pln\b|złotych|złote|eur\b|euro|€|usd\b|\$|руб|₽|rub\b|gbp\b|£|dollars?|pounds?)"
    r"|(?:€|\$|£|₽)\s?\d[\d.,]{0,12}", re.I)
_PERCENT = re.compile(r"(\d{1,3})\s?%")
_TIME_SPAN = re.compile(
    r"(?<![\w.,:])(\d{1,4})(?:\s?[-–]\s?(\d{1,4}))?\s?(?:business\s|working\s|robocz\w{0,4}\s|рабоч\w{0,4}\s)?"
    r"(dni\b|dnia\b|dzień|godzin\w{0,2}|tygod\w{0,4}|miesi\w{0,5}|days?\b|hours?\b|weeks?\b|months?\b|дн\w{0,2}|день|час\w{0,2}|недел\w{0,2}|месяц\w{0,2})", re.I)
_DATE = re.compile(r"(?<![\d.])(?:[0-3]?\d[./][01]?\d(?:[./](?:\d{2}|\d{4}))?)(?![\d.]?\d)")
_WORD = re.compile(r"\w+", re.U)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CYRILLIC_LANGUAGES = {"ru", "uk", "be", "bg", "sr", "mk", "kk"}
_LATIN_LANGUAGES = {"pl", "en", "de", "cs", "sk", "fr", "es", "it", "pt", "nl", "lt", "lv", "et", "ro", "hu", "sv", "tr"}
_WEEKDAY_RANGE = re.compile(
    r"(?:od|from|с)\s+\w{4,15}\s+(?:do|to|по)\s+\w{4,15}|\b(?:mon|tue|wed|thu|fri|sat|sun)\w{0,6}\s?[-–]\s?(?:mon|tue|wed|thu|fri|sat|sun)\w{0,6}"
    r"|(?:pn|пн)\.?\s?[-–]\s?(?:pt|sb|пт|сб)\.?", re.I)
_SHOUT = re.compile(r"(?<!\w)[A-ZĄĆĘŁŃÓŚŹŻА-ЯЁ]{4,}(?:\s+[A-ZĄĆĘŁŃÓŚŹŻА-ЯЁ]{4,}){1,}(?!\w)")
_COMMON_CAPITALISED = {
    # words that start with a capital in replies without being a person's name
    "dzień", "dobry", "witamy", "cześć", "hej", "dziękujemy", "pan", "pani", "państwo", "twoje", "twoja", "twój", "twoim",
    "здравствуйте", "добрый", "привет", "спасибо", "вы", "вас", "вам", "ваш", "ваша", "ваше", "ваши", "вашего", "вашу", "вами", "спам",
    "hello", "hi", "hey", "dear", "customer", "sir", "madam", "team", "thanks", "thank", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "google", "apple", "pay", "paypal", "blik", "visa", "mastercard", "facebook",
    "instagram", "reddit", "messenger", "whatsapp", "telegram", "viber",
}


def _compile(entries: Iterable[str], whole_words: bool = False) -> Optional[re.Pattern]:
    entries = [entry for entry in entries if entry]
    if not entries:
        return None
    tail = "(?!\\w)" if whole_words else ""
    return re.compile("|".join(f"(?<!\\w)(?:{entry}){tail}" for entry in entries), re.I | re.M)


@dataclass(frozen=True)
class Lexicon:
    couriers: Optional[re.Pattern]
    blame: Optional[re.Pattern]
    deflection: Optional[re.Pattern]
    insults: Optional[re.Pattern]
    sarcasm: Optional[re.Pattern]
    hostile_emoji: tuple[str, ...]
    liability: Optional[re.Pattern]
    dates: Optional[re.Pattern]
    month_dates: Optional[re.Pattern]
    full_refund: Optional[re.Pattern]
    gestures: dict[str, Optional[re.Pattern]]
    injection: Optional[re.Pattern]


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    raw = tomllib.loads(resources.files("monitor.drafting").joinpath("data/safety.toml").read_text("utf-8"))

    def langs(table: dict, prefix: str = "") -> list[str]:
        return [entry for key in ("pl", "ru", "en") for entry in table.get(f"{prefix}{key}", [])]

    promise = raw.get("promise", {})
    months = "|".join(promise.get("months", []))
    return Lexicon(
        couriers=_compile(raw.get("couriers", []), whole_words=True),
        blame=_compile(langs(raw.get("blame", {}))),
        deflection=_compile(langs(raw.get("deflection", {}))),
        insults=_compile(raw.get("hostile", {}).get("insults", [])),
        sarcasm=_compile(langs(raw.get("hostile", {}))),
        hostile_emoji=tuple(raw.get("hostile", {}).get("emoji", [])),
        liability=_compile(langs(raw.get("liability", {}))),
        dates=_compile(langs(promise, "dates_")),
        month_dates=re.compile(rf"(?<![\w])\d{{1,2}}\.?\s?(?:{months})\w{{0,8}}|(?:{months})\w{{0,6}}\s\d{{1,2}}(?!\d)", re.I) if months else None,
        full_refund=_compile(promise.get("full_refund", [])),
        gestures={name: _compile(entries) for name, entries in raw.get("gestures", {}).items()},
        injection=_compile(raw.get("injection", {}).get("phrases", [])),
    )


@lru_cache(maxsize=1)
def load_platform_limits() -> dict[str, dict]:
    return tomllib.loads(resources.files("monitor.drafting").joinpath("data/platforms.toml").read_text("utf-8"))


# ---------------------------------------------------------------- text helpers

def visible_text(text: str) -> str:
    """What a reader sees: markup removed, entities decoded, invisible characters dropped, NFKC."""
    text = _TAG.sub(" ", text) if "<" in text else text
    text = html.unescape(text) if "&" in text else text
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return unicodedata.normalize("NFKC", text)


def _mid_sentence_capitalised(text: str) -> list[str]:
    """Capitalised words that do not start a sentence (after skipping leading @handles): name candidates."""
    text = re.sub(r"^(?:\s*[@#][\w.]+)+", "", text)
    names = []
    for match in _CAPITALISED.finditer(text[:POST_SCAN_LIMIT]):
        before = text[max(0, match.start() - 3):match.start()]
        if match.start() > 0 and text[:match.start()].strip() and not _SENTENCE_START.search(before) \
                and not re.search(r"@[\w.]+\s+$", text[max(0, match.start() - 40):match.start()]):
            names.append(match.group(1))
    return names


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for index, ch in enumerate(digits):
        value = int(ch)
        if index % 2 == parity:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _pesel(digits: str) -> bool:
    if len(digits) != 11:
        return False
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(digits, weights)) % 10) % 10
    month = int(digits[2:4]) % 20
    return check == int(digits[10]) and 1 <= month <= 12 and 1 <= int(digits[4:6]) <= 31


def _iban_valid(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _short(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= EVIDENCE_CHARS else value[: EVIDENCE_CHARS - 1] + "…"


def _domain_allowed(host: str, allowed: Iterable[str]) -> bool:
    host = host.lower().rstrip(".").removeprefix("www.")
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def _host_of(url: str) -> str:
    url = re.sub(r"^(?:https?|ftp)://", "", url, flags=re.I)
    host = re.split(r"[/?#:]", url, maxsplit=1)[0]
    return host.split("@")[-1]


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1))}


# ---------------------------------------------------------------- the checker

class PublicSafetyChecker:
    """`check(text, context)` -> findings; an empty list means the text may go out as it is."""

    def __init__(self, shop: ShopSettings, lexicon: Optional[Lexicon] = None,
                 platform_limits: Optional[dict[str, dict]] = None):
        self.shop = shop
        self.lexicon = lexicon or load_lexicon()
        self.platform_limits = platform_limits if platform_limits is not None else load_platform_limits()
        policy = shop.returns
        self._policy_numbers = {
            shop.delivery.days_min, shop.delivery.days_max, shop.delivery.dispatch_hours, policy.days,
            policy.refund_days, policy.complaint_days, shop.answer_within_hours,
            shop.money_back.cancelled_days, shop.money_back.wrong_charge_days,
        }
        self._own_names = {word.lower() for word in _WORD.findall(shop.name)}

    def check(self, text: str, context: Optional[SafetyContext] = None) -> list[Finding]:
        context = context or SafetyContext()
        try:
            return self._check(text, context)
        except Exception as exc:  # noqa: BLE001 - a check that crashes must still block, not pass
            log.exception("safety check failed")
            return [Finding("check_failed", f"the safety check could not finish ({type(exc).__name__}); "
                                            "review the text by hand")]

    # The order of findings follows how a person reads: what is wrong with the text as a whole
    # first (empty, length, language), then what is in it.
    def _check(self, text: object, context: SafetyContext) -> list[Finding]:
        raw = text if isinstance(text, str) else ("" if text is None else str(text))
        findings: list[Finding] = []
        over_cap = len(raw) > SCAN_LIMIT
        scanned = raw[:SCAN_LIMIT]
        seen = visible_text(scanned)
        lower = seen.lower()
        post = visible_text((context.post_text or "")[:POST_SCAN_LIMIT])

        if not seen.strip():
            findings.append(Finding("empty", "the reply is empty (or only invisible characters/markup)"))
            return findings + self._invisible_and_markup(scanned)
        findings += self._length(raw, seen, context, over_cap)
        findings += self._language(seen, context)
        findings += self._invisible_and_markup(scanned)
        findings += self._placeholders(seen)
        findings += self._personal_data(seen, post, context)
        findings += self._links(seen, post)
        findings += self._lexicon_hits(lower, post.lower())
        findings += self._promises(seen, lower, post)
        findings += self._echo(lower, post.lower())
        return findings

    # -- whole text

    def limit_for(self, platform: str, max_length: Optional[int] = None) -> Optional[int]:
        """The length limit a reply to this platform must respect (None: no limit known)."""
        return self._limit(SafetyContext(platform=platform, max_length=max_length))[0]

    def measure(self, text: str, platform: str) -> int:
        """The length of a reply as the platform counts it."""
        weighted = bool(self.platform_limits.get((platform or "").lower(), {}).get("weighted"))
        return weighted_length(text) if weighted else len(text)

    def _limit(self, context: SafetyContext) -> tuple[Optional[int], bool]:
        table = self.platform_limits.get((context.platform or "").lower(), {})
        weighted = bool(table.get("weighted"))
        if context.max_length:
            return context.max_length, weighted
        return table.get("max_length"), weighted

    def _length(self, raw: str, seen: str, context: SafetyContext, over_cap: bool) -> list[Finding]:
        if over_cap:
            return [Finding("length", f"the text has {len(raw):,} characters; only the first {SCAN_LIMIT:,} were checked "
                                      "and no platform accepts a reply that long")]
        limit, weighted = self._limit(context)
        if not limit:
            return []
        size = weighted_length(seen) if weighted else len(seen)
        if size > limit:
            unit = "weighted characters (URLs count 23, emoji and CJK 2)" if weighted else "characters"
            where = context.platform or "this platform"
            return [Finding("length", f"{size} {unit}; {where} allows {limit}", f"{size}>{limit}")]
        return []

    def _language(self, seen: str, context: SafetyContext) -> list[Finding]:
        expected = (context.post_language or "").lower() or None
        if not expected:
            return []
        sample = _URL.sub(" ", seen)
        for word in self._own_names:
            sample = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", sample, flags=re.I)
        cyrillic, latin = len(_CYRILLIC.findall(sample)), len(_LATIN.findall(sample))
        script = "cyrillic" if cyrillic > latin else "latin" if latin else None
        wanted = "cyrillic" if expected in _CYRILLIC_LANGUAGES else "latin" if expected in _LATIN_LANGUAGES else None
        if script and wanted and script != wanted and max(cyrillic, latin) >= 3:
            return [Finding("language", f"the reply is written in {script} script but the post is in '{expected}'", script)]
        if len(_WORD.findall(sample)) < 4:
            return []            # too short for a reliable verdict beyond the script
        found = detect_confident(sample)
        if found and found != expected:
            return [Finding("language", f"the reply reads as '{found}' but the post is in '{expected}'", found)]
        return []

    def _invisible_and_markup(self, scanned: str) -> list[Finding]:
        findings = []
        hidden = [ch for ch in scanned if ch not in "\n\t" and unicodedata.category(ch) in _INVISIBLE_CATEGORIES]
        if hidden:
            names = sorted({f"U+{ord(ch):04X}" for ch in hidden})[:5]
            findings.append(Finding("invisible", f"{len(hidden)} invisible character(s) ({', '.join(names)}) could hide "
                                                 "text from the approver; remove them", ", ".join(names)))
        tag = _TAG.search(scanned)
        if tag or _SCRIPTY.search(scanned):
            evidence = tag.group(0) if tag else _SCRIPTY.search(scanned).group(0)
            findings.append(Finding("markup", "HTML or script markup in a reply: platforms show it as text or strip it, "
                                              "and it can carry scripts", _short(evidence)))
        return findings

    def _placeholders(self, seen: str) -> list[Finding]:
        match = _PLACEHOLDER.search(seen)
        if match:
            return [Finding("placeholder", f"template placeholder {match.group(0)!r} was left in the text", _short(match.group(0)))]
        return []

    # -- personal data

    def _personal_data(self, seen: str, post: str, context: SafetyContext) -> list[Finding]:
        findings: list[Finding] = []
        taken: list[tuple[int, int]] = []

        def add(kind: str, why: str, match_text: str, span: tuple[int, int]) -> None:
            if any(start <= span[0] < end or span[0] <= start < span[1] for start, end in taken):
                return
            taken.append(span)
            findings.append(Finding("personal_data", f"{kind} {_short(match_text)!r} in a public reply: {why}", _short(match_text)))

        private = "ask for it in a private message instead"
        for match in _EMAIL.finditer(seen):
            domain = match.group(0).rsplit("@", 1)[-1]
            span = match.span()
            if _domain_allowed(domain, self.shop.allowed_domains):
                taken.append(span)       # the shop's own address is not personal data (links handle the rest)
                continue
            add("e-mail address", private, match.group(0), span)
        for match in _IBAN.finditer(seen):
            if _iban_valid(match.group(0)) or match.group(0).upper().startswith("PL"):
                add("bank account (IBAN)", "account numbers never go into a public reply", match.group(0), match.span())
        for match in _NRB.finditer(seen):
            add("bank account number", "account numbers never go into a public reply", match.group(0), match.span())
        for match in _TRACKING.finditer(seen):
            add("parcel tracking number", private, match.group(0), match.span())
        for match in _ORDER.finditer(seen):
            token = match.group(1)
            if sum(ch.isdigit() for ch in token) >= 4:
                add("order/parcel number", private, match.group(0), match.span(1))
        for match in _DIGIT_GROUPS.finditer(seen):
            value = match.group(0)
            digits = re.sub(r"\D", "", value)
            if len(digits) < 6:
                continue
            if 13 <= len(digits) <= 19 and _luhn(digits):
                add("payment card number", "card numbers must never be shown or asked for", value, match.span())
            elif len(digits) == 11 and _pesel(digits):
                add("PESEL number", "national ID numbers are personal data", value, match.span())
            elif value.startswith(("+", "00", "(")) or 9 <= len(digits) <= 13 and re.search(r"\d[ \-.]\d", value):
                add("phone number", private, value, match.span())
            else:
                add("long number (order, parcel or account?)", private, value, match.span())
        for pattern, kind in ((_STREET, "street address"), (_POSTCODE, "postal code")):
            for match in pattern.finditer(seen):
                add(kind, "addresses are personal data; " + private, match.group(0), match.span())
        findings += self._names(seen, post, context)
        return findings

    def _handle_words(self, context: SafetyContext) -> set[str]:
        return {word.lower() for word in _WORD.findall(context.author_handle or "") if len(word) >= 2}

    def _is_handle_name(self, name: str, handle_words: set[str]) -> bool:
        stem = name.lower()[:4]
        return any(word.startswith(stem) or stem.startswith(word[:4]) for word in handle_words if len(word) >= 3)

    def _names(self, seen: str, post: str, context: SafetyContext) -> list[Finding]:
        findings = []
        handle_words = self._handle_words(context)
        allowed = self._own_names | {w.lower() for w in _WORD.findall(self.shop.name)}
        for match in _HONORIFIC.finditer(seen):
            name = match.group(1)
            if name.lower() in _COMMON_CAPITALISED or name.lower() in allowed or self._is_handle_name(name, handle_words):
                continue
            findings.append(Finding("personal_data", f"the name {name!r} is not the author's public handle; "
                                                      "use only the handle in public", _short(match.group(0))))
            return findings
        match = _PATRONYMIC.search(seen)
        if match and not all(self._is_handle_name(part, handle_words) for part in match.group(0).split()):
            return [Finding("personal_data", f"full name {match.group(0)!r} in a public reply", _short(match.group(0)))]
        if post:
            lowered_words = set(_WORD.findall(post)) | set(_WORD.findall(seen))
            post_names = {name for name in _mid_sentence_capitalised(post) if name.lower() not in lowered_words}
            for name in _mid_sentence_capitalised(seen):
                if (name in post_names and name.lower() not in _COMMON_CAPITALISED and name.lower() not in allowed
                        and not self._is_handle_name(name, handle_words)
                        and not (self.lexicon.couriers and self.lexicon.couriers.fullmatch(name))):
                    findings.append(Finding("personal_data", f"the name {name!r} is copied from the post and is not the "
                                                              "author's public handle", name, severity="warn"))
                    break
        return findings

    # -- links

    def _links(self, seen: str, post: str) -> list[Finding]:
        findings = []
        emails = [m.span() for m in _EMAIL.finditer(seen)]
        post_lower = post.lower()
        for match in _URL.finditer(seen):
            if any(start <= match.start() < end for start, end in emails):
                continue
            url = match.group(0).rstrip(".,;:!?)")
            host = _host_of(url)
            if _domain_allowed(host, self.shop.allowed_domains):
                continue
            allowed = ", ".join(self.shop.allowed_domains) or "none"
            findings.append(Finding("link", f"link to {host!r}, which is not one of the shop's allowed domains ({allowed})", _short(url)))
            if host.lower() in post_lower:
                findings.append(Finding("injection", f"the link {host!r} is copied from the post: a post must not steer "
                                                     "what the shop links to", _short(url)))
        return findings

    # -- lexicons

    def _lexicon_hits(self, lower: str, post_lower: str) -> list[Finding]:
        lex = self.lexicon
        findings = []
        checks = (
            (lex.couriers, "blame", "names a carrier; a public reply must not point at anyone else, the courier included"),
            (lex.blame, "blame", "shifts the blame; apologise and solve instead"),
            (lex.deflection, "deflection", "sends the customer to read the website/description; give the information itself"),
            (lex.insults, "hostile", "insulting or contemptuous word"),
            (lex.sarcasm, "hostile", "sarcastic, condescending or passive-aggressive wording"),
            (lex.liability, "liability", "admits legal liability; leave that to the legal contact"),
            (lex.injection, "injection", "instruction-like text a manipulated post could have put into a generated draft"),
        )
        for pattern, code, why in checks:
            if pattern is None:
                continue
            match = pattern.search(lower)
            if match:
                reason = f"{why}: {_short(match.group(0))!r}"
                if code == "hostile" and post_lower and match.group(0) in post_lower:
                    reason += " (echoed from the post)"
                findings.append(Finding(code, reason, _short(match.group(0))))
        for emoji in lex.hostile_emoji:
            if emoji in lower:
                findings.append(Finding("hostile", f"emoji {emoji} reads as mocking or angry in a public reply", emoji))
                break
        return findings

    # -- promises

    def _promises(self, seen: str, lower: str, post: str) -> list[Finding]:
        lex = self.lexicon
        goodwill = self.shop.goodwill
        findings = []
        post_numbers = {int(n) for n in re.findall(r"\d{1,6}", post)}
        money = _MONEY.search(seen)
        if money and not _DIGIT_GROUPS.fullmatch(money.group(0).strip()):
            findings.append(Finding("promise", f"names an amount of money ({_short(money.group(0))!r}); amounts are "
                                               "settled privately, never promised in public", _short(money.group(0))))
        for match in _PERCENT.finditer(seen):
            value = int(match.group(1))
            if "discount" not in goodwill.allowed or value > goodwill.max_discount_percent:
                limit = f"at most {goodwill.max_discount_percent}%" if "discount" in goodwill.allowed else "no discounts"
                findings.append(Finding("promise", f"offers {value}%, but the goodwill policy allows {limit}", match.group(0)))
                break
        for match in _TIME_SPAN.finditer(ANSWER_TIME.sub(" ", seen)):
            numbers = {int(n) for n in match.groups()[:2] if n}
            unknown = numbers - self._policy_numbers - post_numbers
            if unknown:
                findings.append(Finding("promise", f"promises {_short(match.group(0))!r}, a time the shop's policy "
                                                   "does not state; use the knowledge-base times", _short(match.group(0))))
                break
        undated = _WEEKDAY_RANGE.sub(" ", lower)      # opening hours ("od poniedziałku do piątku") are not promises
        undated = ANSWER_TIME.sub(" ", undated)       # when we answer, from the clock and opening hours (drafting.clock)
        for pattern, why in ((lex.dates, "a firm date or guarantee nobody has checked"),
                             (lex.month_dates, "a calendar date nobody has checked")):
            match = pattern.search(undated) if pattern else None
            if match:
                findings.append(Finding("promise", f"{why}: {_short(match.group(0))!r}", _short(match.group(0))))
                break
        else:
            match = _DATE.search(ANSWER_TIME.sub(" ", seen))
            if match:
                findings.append(Finding("promise", f"a calendar date nobody has checked: {match.group(0)!r}", match.group(0)))
        if lex.full_refund and (match := lex.full_refund.search(lower)):
            findings.append(Finding("promise", f"promises a full refund ({_short(match.group(0))!r}) before anyone "
                                               "checked the case", _short(match.group(0))))
        for gesture, pattern in lex.gestures.items():
            if pattern is None or gesture in goodwill.allowed:
                continue
            match = pattern.search(lower)
            if match:
                findings.append(Finding("promise", f"offers a {gesture.replace('_', ' ')} ({_short(match.group(0))!r}), "
                                                   "which the shop's goodwill policy does not allow", _short(match.group(0))))
        return findings

    # -- prompt injection echoes

    def _echo(self, lower: str, post_lower: str) -> list[Finding]:
        if not post_lower:
            return []
        draft_words = _WORD.findall(lower)[:3000]
        post_words = _WORD.findall(post_lower)[:5000]
        steering = bool(self.lexicon.injection and self.lexicon.injection.search(post_lower))
        size = 4 if steering else 17      # a restated clause (at most 16 words) is how a reply confirms the problem
        overlap = _ngrams(draft_words, size) & _ngrams(post_words, size)
        if not overlap:
            return []
        sample = " ".join(next(iter(overlap)))
        if steering:
            return [Finding("injection", f"repeats words from a post that tries to give instructions ('{sample} ...'); "
                                         "a manipulated post must not write the reply", sample)]
        return [Finding("injection", f"copies the post word for word ('{sample} ...'); restate the problem in the "
                                     "shop's words", sample, severity="warn")]


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == "block"]
