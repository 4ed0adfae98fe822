"""Posts that are not for us to answer: the brand's own accounts, news, reposts, competitors.

A public reply only makes sense to a customer talking to (or about) the shop. The brand's own
posts never enter the queue; news headlines and third-party reports about the brand, reposts
of somebody else's post and posts about a competitor are kept for monitoring with no reply
suggested. The rules are plain and explainable (the reason goes into the approver's notes):

- own: the author is one of `[shop] handles`;
- repost: the text starts with "RT @..." (the original author is the one to answer);
- competitor: a `[shop] competitors` name or handle is mentioned and the shop is not;
- news: a headline or report: a news marker ("#news", "BREAKING", "СМИ:", "via @...") or a link,
  or a reporting verb ("announced", "ввели", "ogłosił"), and no first or second person
  anywhere (a customer writes "I", "my", "you"; a headline does not).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

OWN = "own"
REPOST = "repost"
COMPETITOR = "competitor"
NEWS = "news"
NOT_FOR_US = (OWN, REPOST, COMPETITOR, NEWS)
FLAG_CODE = "not_for_us"

_TEXTSPEAK = re.compile(r"(?<![\w.])(?:u|ur|ya)(?![\w.])")     # lower case only: "U.S." is no "you"
_HASHTAG_OR_HANDLE = re.compile(r"[#@]\w+")
_LINK = re.compile(r"https?://\S+|www\.\S+", re.I)
_REPOST = re.compile(r"^\s*(?:RT|РТ)\s*@\w+", re.I)
_NEWS_MARKER = re.compile(
    r"#(?:news|новости|новость|wiadomosci|wiadomości|breaking|runews|aapl)\b|\bbreaking\b|\bexclusive\b|\bvia @\w+"
    r"|(?:^|\s)(?:СМИ|РИА|ТАСС|Reuters|Bloomberg)\b|\bpress release\b|\bkomunikat\b", re.I)
_REPORTING_EN = re.compile(   # English headline verbs count only next to a link (a customer "fails" too)
    r"\b(?:announce[sd]?|report(?:s|ed)?|loses|wins|fails|unveils?|launch(?:es|ed)|cites?|to unlock|deleted|"
    r"claimed|could cost|accused)\b", re.I)
_REPORTING = re.compile(
    r"(?<!\w)(?:секторальн\w*|санкци\w*|ввел[иа]?|объявил[аи]?|сообщил[аи]?|заявил[аи]?|планиру\w+|попал[аи]? под|"
    r"прекратил[аи]?|прекратит|приостанов\w+|повыша\w+|снизил[аи]?с[ья]|признал[аи]?|отключил[аи]?|отключен[аоы]?|"
    r"пытается|обещают|забирает|жалуются|вошли|вошл[аи]|могут попасть|может (?:полностью )?отключиться|"
    r"ogłosi\w*|poinformowa\w*|podaje|wprowadzi\w*|zapowiedzia\w*)(?!\w)", re.I)
# "В Симферополе ...", "W Gdańsku ...": a report opens with the place; «МТС» in guillemets is press style.
_DATELINE = re.compile(r"^\s*(?:В|Во|W|We)\s+[А-ЯЁA-ZŁŚŻŹ][\w-]+|«[^»]{2,40}»")
_PERSON = re.compile(
    r"(?<!\w)(?:i|i'm|im|i've|i'll|i'd|me|my|mine|we|we're|our|us|you|your|you're|yall|y'all|pls|please|"
    r"ja|mnie|mi|mój|moja|moje|mojego|moim|nas|nam|nasz|nasza|nasze|wy|was|wam|wasz|wasza|wasze|"
    r"я|мне|меня|мной|мой|моя|моё|мое|мои|мы|нас|нам|наш|наша|наши|вы|вас|вам|ваш|ваша|ваши|ты|тебя|тебе|твой|"
    r"могу|хочу|жду|плачу|пишу|звоню|сижу|знаю|понимаю|думаю|буду|купил[аи]?|заказал[аи]?|положил[аи]?)(?!\w)",
    re.I)
_FIRST_PERSON_VERB = re.compile(r"\w+(?:łem|łam|łbym|łabym|liśmy|łyśmy)\b|\b(?!się\b)\w+(?:ę|emy|imy)\b", re.I)


@dataclass(frozen=True)
class Audience:
    kind: Optional[str]          # None: a post for us; else own / repost / competitor / news
    reason: str = ""

    @property
    def for_us(self) -> bool:
        return self.kind is None


def _norm_handle(value: str) -> str:
    return value.strip().lstrip("@").lower()


class AudienceRules:
    """Built once from `[shop]`: the brand's handles and names, and its competitors."""

    def __init__(self, handles: Iterable[str] = (), names: Iterable[str] = (), competitors: Iterable[str] = ()):
        self.handles = {_norm_handle(h) for h in handles if _norm_handle(h)}
        self.names = [n.strip() for n in names if n.strip()]
        self.competitors = [c.strip().lstrip("@") for c in competitors if c.strip().lstrip("@")]
        self._ours = _words_pattern(self.names + [f"@{h}" for h in self.handles])
        self._theirs = _words_pattern(self.competitors + [f"@{c}" for c in self.competitors])

    @classmethod
    def from_shop(cls, shop) -> "AudienceRules":
        return cls(getattr(shop, "handles", ()), [shop.name, *getattr(shop, "names", ())], getattr(shop, "competitors", ()))

    def classify(self, text: str, author_handle: str = "") -> Audience:
        text = text or ""
        if author_handle and _norm_handle(author_handle) in self.handles:
            return Audience(OWN, f"posted by the shop's own account @{_norm_handle(author_handle)}")
        if _REPOST.search(text):
            return Audience(REPOST, "a repost of somebody else's post: the original author is the one to answer")
        if self._theirs is not None:
            theirs = self._theirs.search(text)
            if theirs and not (self._ours and self._ours.search(text)):
                return Audience(COMPETITOR, f"about a competitor ({theirs.group(0)!r}), not about the shop")
        return self._news(text)

    def _news(self, text: str) -> Audience:
        body = _LINK.sub(" ", text)
        if _PERSON.search(body) or _TEXTSPEAK.search(body) or _FIRST_PERSON_VERB.search(_polish_only(body)):
            return Audience(None)
        marker = _NEWS_MARKER.search(text)
        if marker:
            return Audience(NEWS, f"a news report ({marker.group(0).strip()!r}), not a customer")
        reporting = _REPORTING.search(body) or (_LINK.search(text) and _REPORTING_EN.search(body))
        if reporting and "?" not in body:
            return Audience(NEWS, f"a headline or third-party report ({reporting.group(0)!r}), not a customer")
        words = re.findall(r"[^\W\d_][\w'’]*", _HASHTAG_OR_HANDLE.sub(" ", body))
        capitalised = sum(1 for w in words if w[0].isupper())
        if _LINK.search(text) and len(words) >= 5 and capitalised >= 0.6 * len(words):
            return Audience(NEWS, "a headline with a link (title case), not a customer")
        dateline = _DATELINE.search(body)
        if dateline and "?" not in body and "!" not in body:
            return Audience(NEWS, f"a report about the brand ({dateline.group(0).strip()!r}), not a customer")
        return Audience(None)


def _polish_only(text: str) -> str:
    """First-person verb endings only mean something in Polish (Latin letters with Polish diacritics)."""
    return text if re.search(r"[ąćęłńóśźż]", text, re.I) else ""


def _words_pattern(words: list[str]) -> Optional[re.Pattern]:
    words = [w for w in words if w]
    if not words:
        return None
    return re.compile("|".join(f"(?<![\\w@]){re.escape(w)}(?!\\w)" for w in sorted(words, key=len, reverse=True)), re.I)


def audience_flag(audience: Audience):
    """The analysis flag that carries the decision to the drafter and the approver."""
    from monitor.analysis.base import Flag

    return Flag(code=FLAG_CODE, reason=audience.reason, evidence=(audience.kind or "",), weight=0.0)


def from_flags(flags) -> Optional[Audience]:
    for flag in flags or ():
        if flag.code == FLAG_CODE:
            kind = flag.evidence[0] if flag.evidence else NEWS
            return Audience(kind if kind in NOT_FOR_US else NEWS, flag.reason)
    return None
