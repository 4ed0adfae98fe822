"""The post's tone, for choosing how to answer: angry or sarcastic posts get the calm reply.

A full apology with exclamation marks reads as mockery under "thanks for the 27 hour delay"
or under swearing at the brand; the guidelines ask for one calm answer without emotion. This
module only says why a post calls for it (the reason goes into the approver's notes).
"""
from __future__ import annotations

import re
from typing import Optional

_ANGRY_TAGS = re.compile(
    r"#(?:\w*fail\w*|worst\w*|shame\w*|badservice|bad\w*service|poor\w*service|disgust\w*|annoyed|frustrat\w*|furstrated|"
    r"notcool|wtf\w*|ripoff|scam\w*|boycott\w*|neveragain|fixit|smh|unacceptable|angry|pissed\w*|ugh|"
    r"żenada|kpina|masakra|dno|oszu\w*|позор|жесть|развод|отстой)\b", re.I)
_ANGRY_EMOJI = re.compile("[\U0001F621\U0001F92C\U0001F620\U0001F44E\U0001F4A9\U0001F595\U0001F624\U0001F644\U0001F612]")
_SARCASM = re.compile(
    r"(?<!\w)(?:thank(?:s| you)?(?: \w+){0,2} for (?!the (?:quick|fast|help|reply|response))"
    r"|thx for|shout ?out to|great job|well done|congrats|is this a joke|what a joke|new record|never fails to|"
    r"right on cue|thanks for the memories|good news|love (?:it|this) when|"
    r"dzięki za|dziękuję za|dziękujemy za|brawo|gratul\w+|super sprawa|świetnie,? że|"
    r"спасибо(?: огромное| большое)?(?: вам| тебе)?,? (?:за|что)|спс\b|на шаг впереди|как(?:ой|ая|ое) (?:же )?(?:забавн|чудесн|прекрасн)\w*|"
    r"браво|молодцы)", re.I)
_PROFANITY = re.compile(
    r"(?<!\w)(?:fuck\w*|shit\w*|bullshit|cunt\w*|twat\w*|dick\w*|asshole\w*|wanker\w*|bastard\w*|pissed|piss off|crap\w*|suck(?:s|ed)?|ass\b|bitch\w*|damn|wtf|"
    r"kurw\w*|pierdol\w*|spierd\w*|jeb\w*|chuj\w*|gówn\w*|debil\w*|idiot\w*|"
    r"бля\w*|ху[йеёяю]\w*|пизд\w*|[её]б\w*|сук[аи]\b|хер\w*|хрен\w*|охренел\w*|уеб\w*|уёб\w*|задолбал\w*|заебал\w*|"
    r"туп(?:ой|ая|ые|ого)|урод\w*|упыр\w*|сдохни)", re.I)
_QUESTION = re.compile(r"\?|^(?:how|when|where|what|which|can|could|do|does|is|are|will|would|czy|jak|kiedy|gdzie|ile|"
                       r"как|когда|где|сколько|можно|есть ли)\b", re.I)


def angry_cue(text: str, lexicon=None, negative: bool = True) -> Optional[str]:
    """Why the post calls for the calm reply ("swearing: 'fuck'", "sarcasm: 'thanks for'"), or None.

    Thanks and praise words are sarcasm only in a negative post (`negative`)."""
    text = text or ""
    match = _PROFANITY.search(text) or (lexicon.insults.search(text.lower()) if lexicon and lexicon.insults else None)
    if match:
        return f"swearing or insult: {match.group(0)!r}"
    match = _ANGRY_TAGS.search(text)
    if match:
        return f"angry hashtag {match.group(0)!r}"
    match = _ANGRY_EMOJI.search(text)
    if match:
        return f"angry emoji {match.group(0)}"
    match = _SARCASM.search(text) if negative else None
    if match:
        return f"sarcasm: {match.group(0).strip()!r}"
    return None


def is_question(text: str) -> bool:
    return bool(_QUESTION.search((text or "").strip()))
