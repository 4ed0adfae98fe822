"""Reply phrasings as data: per language, voice, topic and slot, with the shop's facts filled in.

`data/phrases/<lang>.toml` ships Polish, Russian and English; a shop can override any list with
its own files (`[drafting] phrases_dir`). Variants are picked by a hash of the post and the slot,
so the same post always gets the same draft, and a hundred posts do not get one pasted answer.
Numbers in facts are inflected with the language's plural categories (1 dzień / 2 dni / 5 dni).
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Optional

from monitor.drafting.config import ShopSettings

LANGUAGES = ("pl", "ru", "en")
VOICES = ("formal", "informal")


class PhrasebookError(ValueError):
    """A phrasings file cannot be used; the message names the file and the key."""


def plural_category(language: str, n: int) -> str:
    """CLDR-style category for cardinal n: one / few / many (Slavic) or one / other (English)."""
    if language in ("pl",):
        if n == 1:
            return "one"
        return "few" if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else "many"
    if language in ("ru", "uk", "be"):
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        return "few" if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else "many"
    return "one" if n == 1 else "other"


def _form(forms: Mapping[str, str], category: str) -> str:
    for key in (category, "other", "many", "few", "one"):
        if key in forms:
            return forms[key]
    raise KeyError(category)


def _merge(base: dict, override: Mapping) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


def _append(base: dict, extra: Mapping) -> dict:
    """Like `_merge`, but lists grow: a learned variant joins the shipped ones."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping):
            out[key] = _append(out.get(key, {}) if isinstance(out.get(key), dict) else {}, value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + [v for v in value if v not in out[key]]
        else:
            out[key] = value
    return out


def _load_shipped(language: str) -> dict:
    text = resources.files("monitor.drafting").joinpath(f"data/phrases/{language}.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_phrases(phrases_dir: Optional[str] = None) -> dict[str, dict]:
    """{language: table}; the shop's files (if any) are merged over the shipped ones."""
    tables = {language: _load_shipped(language) for language in LANGUAGES}
    if phrases_dir:
        folder = Path(phrases_dir).expanduser()
        if not folder.is_dir():
            raise PhrasebookError(f"[drafting] phrases_dir: folder not found: {folder}")
        for path in sorted(folder.glob("*.toml")):
            try:
                own = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise PhrasebookError(f"{path}: not a readable TOML file ({exc})") from None
            tables[path.stem] = _merge(tables.get(path.stem, {}), own)
        for path in sorted((folder / "learned").glob("*.toml")):   # accepted from approvers' edits: added, not replacing
            try:
                learned = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise PhrasebookError(f"{path}: not a readable TOML file ({exc})") from None
            tables[path.stem] = _append(tables.get(path.stem, {}), learned)
    for language, table in tables.items():
        _validate(language, table)
    return tables


def _validate(language: str, table: Mapping[str, Any]) -> None:
    for voice in VOICES:
        for section, slots in (table.get(voice) or {}).items():
            if not isinstance(slots, Mapping):
                raise PhrasebookError(f"{language}.toml [{voice}.{section}]: expected a table of slots")
            for slot, variants in slots.items():
                if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                    raise PhrasebookError(f"{language}.toml [{voice}.{section}] {slot}: expected a list of strings")


def pick(options: list[str], seed: str, slot: str) -> str:
    """One variant, the same for the same post and slot, spread evenly across posts."""
    digest = hashlib.blake2b(f"{seed}\x1f{slot}".encode("utf-8", "replace"), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


class _Keep(dict):
    """format_map that leaves unknown placeholders visible (the safety check then flags them)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Phrasebook:
    tables: dict[str, dict]
    shop: ShopSettings

    def has_language(self, language: Optional[str]) -> bool:
        return bool(language) and language in self.tables and bool(self.tables[language].get("formal"))

    def options(self, language: str, voice: str, topic: str, slot: str) -> list[str]:
        """Variants for a slot: the topic's own (chosen voice, then the other), then the shared ones.

        Topic-specific content beats voice: a formal line about the topic is better than a generic
        informal one (the shipped formal lines for shared fallbacks avoid direct address)."""
        table = self.tables[language]
        other = "formal" if voice == "informal" else "informal"
        for section in (topic, "shared"):
            for voice_name in (voice, other):
                found = ((table.get(voice_name) or {}).get(section) or {}).get(slot)
                if found:
                    return list(found)
        return []

    def facts(self, language: str) -> dict[str, str]:
        """The shop's knowledge base as ready phrases in one language."""
        data = self.tables[language].get("facts", {})
        shop = self.shop

        def inflect(key: str, n: int, shown: Optional[str] = None) -> str:
            forms = data.get(key)
            if not isinstance(forms, Mapping):
                return "{" + key + "}"
            category = "single" if n == 1 and shown is None and "single" in forms else plural_category(language, n)
            return _form(forms, category).replace("{n}", shown or str(n))

        days = shop.delivery
        span = f"{days.days_min}–{days.days_max}" if days.days_min != days.days_max else str(days.days_max)
        hours_table = data.get("hours", "{days} {open}–{close}")
        weekdays = (data.get("weekdays") or {}).get(shop.hours.days, shop.hours.days)
        methods = [(data.get("payment_methods") or {}).get(m, m.replace("_", " ")) for m in shop.payment_methods]
        joiner = data.get("list_and", "and")
        payments = methods[0] if len(methods) == 1 else f"{', '.join(methods[:-1])} {joiner} {methods[-1]}"
        cost = data.get("return_cost") or {}
        return {
            "shop": shop.name,
            "delivery_within": inflect("delivery_within", days.days_max, span),
            "delivery_duration": inflect("delivery_duration", days.days_max, span),
            "dispatch_within": inflect("dispatch_within", days.dispatch_hours),
            "return_window": inflect("return_window", shop.returns.days),
            "return_within": inflect("return_within", shop.returns.days),
            "refund_within": inflect("refund_within", shop.returns.refund_days),
            "complaint_within": inflect("complaint_within", shop.returns.complaint_days),
            "answer_within": inflect("answer_within", shop.answer_within_hours),
            "answer_time": inflect("answer_within", shop.answer_within_hours),   # the drafter sets it from the clock
            "cancel_refund_within": inflect("cancel_refund_within", shop.money_back.cancelled_days),
            "charge_fix_within": inflect("charge_fix_within", shop.money_back.wrong_charge_days),
            "return_cost": cost.get("free" if shop.returns.free else "paid", ""),
            "hours": hours_table.format_map(_Keep(days=weekdays, open=_clock(shop.hours.open, language),
                                                  close=_clock(shop.hours.close, language))),
            "payments": payments,
            "discount": str(shop.goodwill.max_discount_percent),
        }

    def render(self, template: str, facts: Mapping[str, str]) -> str:
        text = template.format_map(_Keep(facts)) if "{" in template else template
        return re.sub(r"[ \t]{2,}", " ", text).strip()


def _clock(value: str, language: str) -> str:
    hour, minute = value.split(":")
    return f"{int(hour)}:{minute}"


def build_phrasebook(shop: ShopSettings, phrases_dir: Optional[str] = None) -> Phrasebook:
    return Phrasebook(load_phrases(phrases_dir), shop)
