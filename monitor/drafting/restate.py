"""The customer's own problem, restated: the key complaint of a post in the reply's words.

The guidelines' second step is to confirm the problem, "even repeating the customer's own
words". `key_complaint` splits a post into clauses and picks the most negative one that names a
problem (a "problem" cue beats a bare verdict such as "Nie polecam" or "worst service ever");
`restatement` turns it into a sentence addressed to the customer:

- English: first person becomes second ("my phone died" -> "your phone died");
- Russian: the same with pymorphy3, which inflects the verb ("я отключила" -> "вы отключили");
- Polish: a clause in the third person ("szkło jest za wąskie") is used as it is; a clause in
  the first person would need the customer's gender to restate (Pan/Pani), so it is quoted.

A clause with an insult, profanity, personal data (long numbers, e-mails, handles) or an
instruction to the reply writer is never restated; the draft then stays generic.

Tools compared (on the gold posts): pymorphy3 inflects Russian reliably and loads in 0.1 s;
simplemma lemmatizes Polish and Russian but cannot inflect and takes about 5 s to load its
dictionaries, and our cues are word beginnings that need no lemmas; yake's keywords are topical
("Szkiełko", "polecam"), not the problem. Only pymorphy3 is used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

MIN_WORDS = 3
MAX_WORDS = 16          # a restated clause longer than this reads as a copy of the post

# Word beginnings that name a problem (the object of the complaint and what is wrong with it).
_PROBLEM = {
    "en": r"broke|broken|break|stopped|stop working|not working|doesn'?t work|don'?t work|won'?t|can'?t|cannot|couldn'?t|"
          r"never|still|no one|nobody|nothing|lost|missing|late|delay|cancel|charged|charging me|overcharg|fee|refund|"
          r"wait|hold|hung up|hang up|dies|dying|died|drain|crash|freez|slow|stuck|error|fail|wrong|damag|crack|"
          r"scratch|bends?|bent|rude|useless|no help|without|isn'?t|wasn'?t|didn'?t|hasn'?t|haven'?t|not\b|no\b|keeps?",
    "pl": r"nie\b|brak|zepsu|pęk|pękn|popęka|uszkodz|zniszcz|odkle|odstaj|odpad|rozpad|rozlaz|wad|usterk|"
          r"za (mał|duż|krót|dług|wąsk|cienk|słab|głośn)|gorsz|słab|kiepsk|fataln|tragiczn|beznadziejn|"
          r"przestał|przestaje|zacina|zawiesza|rozładow|grzeje|nagrzewa|śmierdzi|hałasuje|trzeszcz|"
          r"niezgodn|wprowadza w błąd|podróbk|podróba|inny niż|zamiast|reklamacj|zwrot|czekam|brakowało|brakuje",
    "ru": r"не\b|нет\b|нету|сломал|слома|не работает|не работал|перестал|списал|сняли|снимают|списыва|минус|"
          r"задерж|опять|снова|до сих пор|отключ|вырубил|пропал|пропада|тормоз|туп(ит|ят)|медленн|невозможно|"
          r"не могу|не можете|ошибк|обман|верните|деньги|плат[аиу]|долго|ждать|жду|дозвон|никто|ничего|хуже",
}
# Verdicts say how the customer feels, not what is wrong; they never carry a clause alone.
_VERDICT = {
    "en": r"^(?:worst|terrible|awful|horrible|disappointed|not happy|unacceptable|ridiculous|never again|wtf|smh|ugh|fix (it|this)|"
          r"i hate|hate)\b",
    "pl": r"^(?:nie polecam|odradzam|zdecydowanie odradzam|tragedia|dramat|porażka|masakra|kpina|żenada|totalna lipa|lipa|"
          r"szkoda (kasy|pieniędzy)|pieniądze wyrzucone|beznadziejny produkt|produkt do bani|straszna podróba|zwykła tandeta|"
          r"jestem (bardzo )?(niezadowolon|rozczarowan)|nie jestem zadowolon)",
    "ru": r"^(?:ужас|кошмар|позор|отстой|жесть|надоел|достал|бесит)",
}
_VERDICT_ANYWHERE = re.compile(r"(?<!\w)(?:nie polecam|odradzam|nikomu nie polecam|nie kupię|never again|do not buy|don'?t buy|"
                               r"won'?t buy|не куплю|"
                               r"не советую|не рекомендую|не покупайте)", re.I)
_WEAK = re.compile(r"nie|не|нет|not|no")          # a bare negation is weak evidence of a problem
# Swearing the safety lexicon may not list: a clause with it is never said back.
_PROFANITY = re.compile(r"(?<!\w)(?:szit|syf|фигн|хрен|херн|дерьм|говн|лаж[аеу]|отстой|cunt|twat|dick|asshole|wanker|bastard|piss|хер|хрен|бля|ху[йеёяю]|пизд|[её]б|сук[аи]|fuck|shit|ass\b|damn|crap|bitch|kurw|pierd|"
                        r"jeb|chuj|dupa|gówn)", re.I)
_SARCASM_OR_HYPOTHETICAL = re.compile(r"(?<!\w)(?:thanks?|thank you|thx|dzięk\w*|спасибо|спс|gdyby|if|если бы|"
                                      r"didn'?t think so)(?!\w)", re.I)
_NEGATIVE_WORDS = {
    "en": r"worst|bad|terrible|awful|horrible|annoying|frustrat|disappoint|useless|ridiculous|joke|sucks?|crap|hate|angry|poor",
    "pl": r"źle|zły|zła|złe|fatal|tragicz|beznadziej|kiepsk|słab|rozczarow|niezadowol|kpina|bubel|badziew|tandet|żenad|lipa",
    "ru": r"плох|ужасн|отвратит|бесит|надоел|достал|кошмар|отстой|хуже|жалк|разочаров",
}
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?…;:])\s+|(?<=[а-яёa-z][.!?])(?=[А-ЯЁA-Zа-яё])|\n+|\s+[–—-]\s+|[!?]+|\.{2,}|(?:,\s*|\s+)(?=(?:but|ale|lecz|jednak|natomiast|но|а|однако|хотя)\s)",
                           re.I)
_NOISE = re.compile(r"[:;=]-?[()\[\]]+|(?<!\w)[:;=]-?[DPp](?!\w)|\){2,}|\({2,}|(?:https?://|www\.)\S+|(?<!\w)[@＠][\w.]+|(?<!\w)RT\b|&amp;|&gt;|&lt;|[_�]+|[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F\u200d]+")
_LEADING = re.compile(r"^(?:[,.;:!?'\"“”„«»()\[\]*/\\-]|\s)+|(?:[,;:'\"“”„«»()\[\]*/\\-]|\s)+$")
_DATA = re.compile(r"\d[\d\s-]{4,}\d|\d{3,}|\d+\s*(?:руб|р\.|zł|pln|usd|eur|\$|€|£|k\b|к\b|тыс)|[$€£]\s*\d|[\w.+-]+@[\w-]+\.[\w.]+|\b(?:ul\.|ulica|улица|ул\.|д\.\s*\d)|[A-ZА-ЯЁŁŚŻ][\w-]+\s+\d{1,3}\b")
_QUESTION_START = re.compile(r"^(?:why|how|when|where|what|who|is|are|do|does|can|could|will|would|czy|dlaczego|jak|kiedy|gdzie|"
                             r"почему|зачем|как|когда|где|что|кто|разве)\b", re.I)
_POLISH_FIRST_PERSON = re.compile(r"(?<!\w)(?:ja|mnie|mi|mój|moja|moje|mojego|mojej|moim|mną|nas|nam|nasz\w*)(?!\w)"
                                  r"|\w+(?:łem|łam|łbym|łabym|liśmy|łyśmy)(?!\w)|(?<!\w)(?!się)\w{2,}(?:ę|em|am)(?!\w)", re.I)

# An English clause can be said back only when it starts with its subject ("my phone died"),
# not with a verb or adverb left over after the handle ("@united never fails to ...").
_EN_SUBJECT = re.compile(r"(?:i|i'm|im|i've|my|the|this|that|these|those|it|it's|its|your|you|u|ur|our|we|a|an|"
                         r"[a-z]+(?:'s)?\s+(?:is|are|was|were|has|have|had|keeps?|won'?t|doesn'?t|didn'?t|isn'?t|wasn'?t|can'?t|"
                         r"stopped|broke|died|never|still|just|always))\b", re.I)
_EN_SWAP = {
    "i": "you", "i'm": "you're", "im": "you're", "i've": "you've", "ive": "you've", "i'll": "you'll", "i'd": "you'd",
    "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "we": "you", "we're": "you're", "our": "your",
    "us": "you", "ours": "yours", "am": "are", "was": "was",
}
_EN_AFTER_I = {"am": "are", "was": "were", "have": "have", "do": "do"}
_EN_BRAND_SECOND = {"you": "we", "your": "our", "you're": "we're", "yours": "ours", "u": "we", "ur": "our", "yall": "we",
                    "y'all": "we", "ya": "we"}


@dataclass(frozen=True)
class KeyComplaint:
    clause: str          # the customer's clause, cleaned (no handles, links, emoji)
    language: str
    score: float
    first_person: bool


_MID_HANDLE = re.compile(r"(?<=\w)([ ,]+)[@＠][\w.]+(?=[ ,]+\w)")
_EN_US = re.compile(r"\x00(?=\s+(?:to|for|and|or|is|was|are|has|have|will|would|should|never|still|just|can|could|did|does)\b|\s*[,.!?]|$)")
HANDLE_MARK = "\x00"
_HANDLE_AFTER_POSSESSIVE = re.compile(r"\b(my|your|our|the|his|her|their|a|an|mój|moja|мой|моя|мои|ваш|ваша)\s+[@＠][\w.]+", re.I)
_HANDLE_BEFORE_SUBJECT = re.compile(r"\s+[@＠][\w.]+[,:]?\s+(?=(?:my|i|i'm|im|the|this|these|your|ur|we|it|mój|moja|moje|я|у меня|мой|моя)\b)",
                                    re.I)


def _strip(text: str, language: str = "en") -> str:
    """Handles, links, emoji and markup out; a handle inside a sentence is the brand ("waiting for
    @shop to approve"): English says "us"/"our", other languages mark the clause as not sayable."""
    text = _MID_HANDLE.sub(lambda m: m.group(1) + HANDLE_MARK, text)
    if language == "en":
        text = _EN_US.sub("us", text).replace(HANDLE_MARK, "our")
    text = _NOISE.sub(" ", text).replace("#", "")
    text = re.sub(r"\s+", " ", text)
    return _LEADING.sub("", text).strip()


@lru_cache(maxsize=8)
def _pattern(table: str, language: str) -> re.Pattern:
    source = {"problem": _PROBLEM, "verdict": _VERDICT, "negative": _NEGATIVE_WORDS}[table]
    return re.compile(f"(?<!\\w)(?:{source.get(language, source['en'])})", re.I)


_LEAD_IN = re.compile(
    r"^(?:(?:and|but|so|also|plus|then|hey|hi|dear|ok|okay|well|lol|omg|seriously|ale|lecz|jednak|natomiast|"
    r"tylko|że|niestety|ponadto|dodatkowo|poza tym|w związku z (?:tym|powyższym)|no i|но|а|и|однако|хотя|также|"
    r"кроме того|к тому же|кстати|короче|ребят|ребята|друзья|люди|народ|блин|ну)\b[,!]?\s*)+", re.I)


# A quoted post of somebody else (often the brand's own reply): "“@Shop: We apologise ...” no, you don't".
_QUOTED_POST = re.compile(r"(?:^|[\"“«„�]+)[\s\W]*@\w+:.*?(?:[\"”»]|�{2,}|$)|(?<!\w)RT @\w+:.*$", re.S)
_TRAILING_TAGS = re.compile(r"(?:\s*#\w+)+\s*$")


def clauses(text: str, language: str = "en") -> list[tuple[str, bool]]:
    """Sentences and clauses of a post, cleaned; a long one is also offered in its comma parts."""
    out = []
    text = re.sub(r"\^\w+", " ", text or "")          # "^JP": a support agent's initials
    text = _QUOTED_POST.sub(" ", text)
    text = re.sub(r"^(?:[\s.]*[@＠][\w.]+)+", " ", text)             # the handles a reply starts with
    text = _HANDLE_AFTER_POSSESSIVE.sub(r"\1", text)                 # "your @apple iPhone": just "your iPhone"
    text = _HANDLE_BEFORE_SUBJECT.sub(".\n", text)                   # "fuck you @apple my phone died": two clauses
    text = "\n".join(_TRAILING_TAGS.sub("", line) for line in re.split(r"(?<=[.!?])\s+|\n", text))
    for piece in _CLAUSE_SPLIT.split(text):
        if not piece:
            continue
        parts = [piece]
        if len(piece.split()) > MAX_WORDS:
            parts += [p for p in re.split(r",\s+|\s+\((?=\w)|\)\s*|\s+(?:and|but|because|bc|so|since|ale|bo|но|потому что)\s+",
                                          piece) if len(p.split()) >= 3]
        for number, part in enumerate(parts):
            clean = _LEADING.sub("", _LEAD_IN.sub("", _strip(part, language)).strip()).strip()
            if clean:
                out.append((clean, number > 0))
    return out


def key_complaint(text: str, language: Optional[str], unsafe: Optional[re.Pattern] = None) -> Optional[KeyComplaint]:
    """The most negative clause that names a problem and can be said back in public, or None."""
    language = language if language in _PROBLEM else "en"
    if unsafe is not None and unsafe.search(text or ""):
        pass  # checked per clause below: one rude clause does not rule out the rest
    best: Optional[KeyComplaint] = None
    for position, (clause, is_part) in enumerate(clauses(text, language)):
        words = clause.split()
        if HANDLE_MARK in clause or re.search(r"[\"“”«»„]", clause) or re.match(r"(?:то|then)\s", clause, re.I):
            continue
        if not (MIN_WORDS <= len(words) <= MAX_WORDS):
            continue
        if _DATA.search(clause) or _PROFANITY.search(clause) or (unsafe is not None and unsafe.search(clause.lower())):
            continue
        found = _pattern("problem", language).findall(clause)
        problems = sum(0.25 if _WEAK.fullmatch(word.strip().lower()) else 1.0 for word in found)
        if problems < 1:                 # a bare "not" is no problem statement
            continue
        verdict = bool(_pattern("verdict", language).search(clause)) or bool(_VERDICT_ANYWHERE.search(clause))
        score = 2.0 * min(problems, 3) + 0.5 * len(_pattern("negative", language).findall(clause))
        score -= 4.0 if verdict else 0.0
        score -= 1.0 if _QUESTION_START.search(clause) else 0.0
        score -= 1.0 if is_part else 0.0           # a comma part may be a fragment without its verb
        score -= 3.0 if _SARCASM_OR_HYPOTHETICAL.search(clause) else 0.0
        score -= 0.05 * position                   # the first complaint is usually the main one
        score -= 0.1 * max(0, len(words) - 8)      # short clauses read better when said back
        first = bool(_POLISH_FIRST_PERSON.search(clause)) if language == "pl" else False
        if best is None or score > best.score:
            best = KeyComplaint(clause, language, score, first)
    return best if best is not None and best.score > 0.5 else None


# ------------------------------------------------------------------ saying it back


def _en_second_person(clause: str) -> str:
    tokens = re.findall(r"\w+(?:'\w+)*|[^\w\s]", clause)
    out: list[str] = []
    previous = ""
    for token in tokens:
        low = token.lower()
        if low in _EN_BRAND_SECOND:            # "you"/"your" in the post is the brand: we
            word = _EN_BRAND_SECOND[low]
        elif previous in ("i", "i'm") and low in _EN_AFTER_I:
            word = _EN_AFTER_I[low]
        elif low in _EN_SWAP and not (low == "am" and previous not in ("i",)):
            word = _EN_SWAP[low] if low != "was" or previous == "i" else token
            if low == "was" and previous == "i":
                word = "were"
        else:
            word = token
        out.append(word)
        previous = low
    text = " ".join(out)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\bwe is\b", "we are", text)
    return text


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


_RU_PRONOUNS = {"я": "вы", "мне": "вам", "меня": "вас", "мной": "вами", "мною": "вами", "мы": "вы", "нас": "вас",
                "нам": "вам", "нами": "вами"}
_RU_BRAND = {"вы": "мы", "вас": "нас", "вам": "нам", "вами": "нами", "ты": "мы", "тебя": "нас", "тебе": "нам"}


def _ru_second_person(clause: str) -> Optional[str]:
    """1st person -> polite 2nd person (вы); the brand's "вы/ваш" -> "мы/наш". None if unsure."""
    try:
        morph = _morph()
    except ImportError:
        return None
    tokens = re.findall(r"[\w-]+|[^\w\s]", clause)
    has_i = any(t.lower() == "я" for t in tokens)
    out: list[str] = []
    subject_seen = False
    for token in tokens:
        low = token.lower()
        if re.match(r"[A-ZА-ЯЁ]{2,}$|[A-Z]\w+", token) and low != "я":
            subject_seen = True                # "МТС", "Beeline": a company is the subject
            out.append(token)
            continue
        if not re.match(r"[а-яё]", low):
            out.append(token)
            continue
        if low in _RU_PRONOUNS:
            out.append(_RU_PRONOUNS[low])
            continue
        if low in _RU_BRAND:
            out.append(_RU_BRAND[low])
            continue
        parse = morph.parse(low)[0]
        tag = parse.tag
        if tag.POS == "ADJF" and parse.normal_form in ("мой", "наш"):
            form = morph.parse("ваш")[0].inflect({c for c in (tag.case, tag.number, tag.gender) if c})
            out.append(form.word if form else token)
            continue
        if tag.POS == "ADJF" and parse.normal_form in ("ваш", "твой"):
            form = morph.parse("наш")[0].inflect({c for c in (tag.case, tag.number, tag.gender) if c})
            out.append(form.word if form else token)
            continue
        if tag.POS in ("NOUN", "NPRO") and tag.case == "nomn" and low not in ("вы", "я"):
            subject_seen = True
        if tag.POS == "VERB" and tag.person == "1per":
            form = parse.inflect({"2per", "plur"})
            out.append(form.word if form else token)
            continue
        if tag.POS == "VERB" and tag.tense == "past" and tag.number == "sing" and has_i and not subject_seen:
            form = parse.inflect({"plur", "past"})
            out.append(form.word if form else token)
            continue
        out.append(token)
    text = " ".join(out)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\s*-\s*", "-", text)
    return text


# Relative days in the customer's words would read as the shop promising a date ("today"); a
# restatement leaves them out ("yesterday I switched it off" -> "you switched it off").
_RELATIVE_DAYS = re.compile(r"(?<!\w)(?:today|tonight|tomorrow|yesterday|this (?:morning|evening|afternoon|weekend)|"
                            r"dziś|dzisiaj|jutro|wczoraj|pojutrze|сегодня|завтра|вчера|послезавтра)(?!\w)", re.I)


def _without_dates(text: str) -> str:
    text = _RELATIVE_DAYS.sub(" ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", text))
    return re.sub(r"^[,;:\s]+|(?<=,)\s*,", "", text).strip()


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def restatement(complaint: KeyComplaint, templates: dict[str, list[str]], seed: str) -> str:
    """The complaint said back in one sentence: `templates` has `said` (with {problem}) and
    `quoted` (with {quote}) lists, picked by the post's seed."""
    from monitor.drafting.phrasebook import pick

    clause = _without_dates(complaint.clause).rstrip(".!?…,;: ")
    letters = [c for c in clause if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        clause = clause[0] + clause[1:].lower()      # shouting is not repeated
    said: Optional[str] = None
    if complaint.language == "en" and not _QUESTION_START.search(clause) and _EN_SUBJECT.match(clause):
        said = _en_second_person(clause)
    elif complaint.language == "ru" and not _QUESTION_START.search(clause):
        said = _ru_second_person(clause)
    elif complaint.language == "pl" and not complaint.first_person and not _QUESTION_START.search(clause):
        said = clause
    if said and templates.get("said"):
        return pick(templates["said"], seed, "restate").replace("{problem}", _lower_first(said))
    if templates.get("quoted") and len(clause.split()) >= 4:
        return pick(templates["quoted"], seed, "restate").replace("{quote}", clause)
    return ""
