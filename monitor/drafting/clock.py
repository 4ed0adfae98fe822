"""When the customer will hear from us, from the clock and `[shop.hours]`, in their language.

The guidelines: answer within the day, never carry a message into the next one. So a draft
never says "within 24 hours": during opening hours it says "today by 17:00"; after closing (or
too close to it) "tomorrow morning, as soon as we open", or the next opening day by name after
a weekend. The safety check accepts exactly these phrases (`ANSWER_TIME`) while it still blocks
other dates nobody checked ("it will arrive tomorrow").
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

OPEN_DAYS = {"mon-fri": 5, "mon-sat": 6, "mon-sun": 7}
LAST_ANSWER_MARGIN = timedelta(hours=1)     # closer to closing than this: promise the next morning

_TODAY = {"en": "today by {close}", "pl": "dziś do {close}", "ru": "сегодня до {close}"}
_TOMORROW = {"en": "tomorrow morning, as soon as we open", "pl": "jutro rano, zaraz po otwarciu",
             "ru": "завтра утром, как только мы откроемся"}
_ON_DAY = {"en": "on {day} morning, as soon as we open", "pl": "w {day} rano, zaraz po otwarciu",
           "ru": "в {day} утром, как только мы откроемся"}
_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "pl": ("poniedziałek", "wtorek", "środę", "czwartek", "piątek", "sobotę", "niedzielę"),
    "ru": ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"),
}


def _hm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def answer_time(now: datetime, hours, language: str, timezone: Optional[str] = None) -> str:
    """"today by 17:00" / "tomorrow morning, as soon as we open" / "on Monday morning, ..."."""
    language = language if language in _TODAY else "en"
    local = now.astimezone(ZoneInfo(timezone)) if timezone and now.tzinfo else now
    open_days = OPEN_DAYS.get(hours.days, 5)
    opens, closes = _hm(hours.open), _hm(hours.close)
    close_text = f"{closes.hour}:{closes.minute:02d}"
    today_open = local.weekday() < open_days
    close_at = local.replace(hour=closes.hour, minute=closes.minute, second=0, microsecond=0)
    if today_open and local + LAST_ANSWER_MARGIN <= close_at:
        return _TODAY[language].format(close=close_text)
    day = local.date()
    for step in range(1, 8):
        candidate = day + timedelta(days=step)
        if candidate.weekday() < open_days:
            if step == 1:
                return _TOMORROW[language]
            return _ON_DAY[language].format(day=_DAYS[language][candidate.weekday()])
    return _TOMORROW[language]


def _answer_time_pattern() -> re.Pattern:
    clock = r"\d{1,2}:\d{2}"
    parts = []
    for language in _TODAY:
        parts.append(re.escape(_TODAY[language]).replace(re.escape("{close}"), clock))
        parts.append(re.escape(_TOMORROW[language]))
        days = "|".join(re.escape(d) for d in _DAYS[language])
        parts.append(re.escape(_ON_DAY[language]).replace(re.escape("{day}"), f"(?:{days})"))
    return re.compile("|".join(parts), re.I)


ANSWER_TIME = _answer_time_pattern()
