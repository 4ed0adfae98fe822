"""What a careful reader checks in a draft: the customer's own problem, the right topic or none,
the tone, honest answer times, and posts that are not for us."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.analysis.audience import AudienceRules
from monitor.analysis.base import PostView
from monitor.drafting.clock import ANSWER_TIME, answer_time
from monitor.drafting.config import BusinessHours
from monitor.drafting.evaluate import restates
from monitor.drafting.restate import key_complaint
from monitor.drafting.safety import blocking
from monitor.drafting.tone import angry_cue

HOURS = BusinessHours(days="mon-fri", open="09:00", close="17:00")
WARSAW = "Europe/Warsaw"


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("now,language,expected", [
    (_utc(2026, 3, 4, 10, 0), "en", "today by 17:00"),                       # Wednesday 11:00 in Warsaw
    (_utc(2026, 3, 4, 15, 30), "pl", "jutro rano, zaraz po otwarciu"),       # 16:30: too close to closing
    (_utc(2026, 3, 6, 17, 0), "ru", "в понедельник утром, как только мы откроемся"),   # Friday evening
    (_utc(2026, 3, 7, 9, 0), "en", "on Monday morning, as soon as we open"),  # Saturday
])
def test_answer_times_come_from_the_clock_and_opening_hours(now, language, expected):
    assert answer_time(now, HOURS, language, WARSAW) == expected
    assert ANSWER_TIME.fullmatch(expected)


def test_answer_times_pass_the_check_but_other_dates_do_not(checker):
    from monitor.drafting.base import SafetyContext

    ok = checker.check("We'll look into it and reply here today by 17:00.", SafetyContext(post_language="en"))
    assert not blocking(ok), ok
    promise = checker.check("Your parcel will arrive tomorrow.", SafetyContext(post_language="en"))
    assert any(f.code == "promise" for f in promise)


@pytest.mark.parametrize("language,text,phrase", [
    ("en", "second phone charger broke in two weeks. @apple i hate you", "charger broke in two weeks"),
    ("pl", "Nie polecam. Szkło jest za wąskie. Wyrzuciłem do śmietnika.", "Szkło jest za wąskie"),
    ("ru", "@ru_mts я отключила опцию, а с меня сняли ежемесячную плату.", "сняли ежемесячную плату"),
])
def test_the_key_complaint_is_the_clause_that_names_the_problem(language, text, phrase):
    complaint = key_complaint(text, language)
    assert complaint is not None and phrase in complaint.clause


def test_swearing_and_personal_data_are_never_restated():
    assert key_complaint("fuck you @apple my phone is dead", "en") is None
    assert key_complaint("Moje zamówienie 123456789 nie dotarło, zadzwońcie 600 100 200", "pl") is None


@pytest.mark.parametrize("language,text,said", [
    ("en", "My phone has been stuck on the logo since the update", "your phone has been stuck on the logo"),
    ("ru", "Я положила деньги, а на счету минус", "вы положили деньги"),
    ("pl", "Bateria trzyma dwie godziny zamiast dziesięciu", "bateria trzyma dwie godziny"),
])
def test_drafts_restate_the_problem_in_the_customers_words(drafter, analysis_for, language, text, said):
    [draft] = drafter.draft([PostView(text=text, platform="facebook", language=language)],
                            [analysis_for(language, True)])
    assert draft.strategy == "four_step"
    assert said.lower() in draft.text.lower(), draft.text
    assert restates(text, draft.text)
    assert not blocking(draft.findings), draft.findings


def test_unsure_topic_states_no_facts_and_offers_no_goodwill(drafter, analysis_for):
    post = PostView(text="@united flight delayed 5 hours and you lost my bag, worst service ever", platform="facebook",
                    language="en")
    [composition] = drafter.compose_all([post], [analysis_for("en", True, severity=0.9)])
    assert composition.topic == "other"
    assert composition.goodwill is None
    slots = [slot for slot, _ in composition.parts]
    assert "fact" not in slots and "goodwill" not in slots
    assert "refund" not in composition.text.lower() and "delivery" not in composition.text.lower()


@pytest.mark.parametrize("language,text", [
    ("en", "@AmericanAir just want to thank you guys for the 27 hour delay for flight AA106"),
    ("en", "@apple your chargers suck, they just love to break"),
    ("ru", "Вы еще не воспользовались услугой, а мы уже сняли с вас деньги. МТС: на шаг впереди!"),
    ("pl", "Świetnie, paczka znowu nie dotarła. Dzięki za nic #żenada"),
])
def test_sarcasm_and_swearing_get_the_calm_reply_and_never_thanks(drafter, analysis_for, language, text):
    assert angry_cue(text)
    [draft] = drafter.draft([PostView(text=text, language=language)], [analysis_for(language, True)])
    assert draft.strategy == "calm_once"
    assert "!" not in draft.text
    assert not any(word in draft.text.lower() for word in ("thank", "dzięk", "спасибо", "kind words", "good question"))


def test_a_customer_asking_for_a_dm_is_not_spam(drafter, analysis_for):
    [draft] = drafter.draft([PostView(text="@shop where is my order?? DM me please", language="en")],
                            [analysis_for("en", True)])
    assert draft.strategy == "four_step" and draft.text


def test_private_message_only_when_the_next_step_needs_personal_data(drafter, analysis_for):
    generic = PostView(text="The app is so slow I can't even finish a sentence", platform="facebook", language="en")
    late = PostView(text="Where is my order? Still nothing after two weeks", platform="facebook", language="en")
    first, second = drafter.draft([generic, late], [analysis_for("en", True)] * 2)
    assert "send us your order number" in second.text.lower() or "order number" in second.text.lower()
    assert not first.text.lower().startswith("please send") and "today by 17:00" in first.text


@pytest.mark.parametrize("text,author,kind", [
    ("Breaking: Demo Shop fined for late deliveries http://news.example/1", "", "news"),
    ("Власти США ввели санкции против ВТБ, Банка Москвы и Россельхозбанка", "", "news"),
    ("RT @someone: Demo Shop lost my parcel", "", "repost"),
    ("Our spring sale starts today!", "demoshop", "own"),
    ("OtherShop delivered in one day, impressive", "", "competitor"),
])
def test_posts_not_for_us_are_recognised(text, author, kind):
    rules = AudienceRules(handles=["@DemoShop"], names=["Demo Shop"], competitors=["OtherShop"])
    assert rules.classify(text, author).kind == kind


@pytest.mark.parametrize("text", [
    "Demo Shop lost my parcel and nobody answers",
    "Заказ не пришёл, верните деньги",
    "OtherShop was faster, but my Demo Shop order is still not here",
    "@DemoShop where is my order? DM me",
])
def test_customers_are_for_us(text):
    rules = AudienceRules(handles=["DemoShop"], names=["Demo Shop"], competitors=["OtherShop"])
    assert rules.classify(text).for_us


def test_news_gets_no_reply_suggested(drafter, analysis_for):
    post = PostView(text="Apple loses appeal to trademark 'app store' in Australia http://t.co/x", language="en")
    [draft] = drafter.draft([post], [analysis_for("en", True)])
    assert draft.strategy == "monitor" and draft.text == ""
    assert any("Not for us" in note for note in draft.notes)


def test_words_the_check_objects_to_are_never_said_back(drafter, analysis_for):
    post = PostView(text="Nothing going [NAME] way tonight, lets just blame it on sickness and move on", language="en")
    [draft] = drafter.draft([post], [analysis_for("en", True)])
    assert "[NAME]" not in draft.text and "blame" not in draft.text
    assert not blocking(draft.findings)
