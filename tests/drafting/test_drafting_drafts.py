"""Drafts: in the post's language, passing the check, four steps for complaints, escalation for
legal threats and fraud, thanks for praise, varied but deterministic, within platform limits."""
from __future__ import annotations

import re

import pytest

from monitor.analysis.base import Flag, PostView
from monitor.drafting import build_drafter
from monitor.drafting.drafter import STEP_SLOTS
from monitor.drafting.language import detect
from monitor.drafting.phrasebook import LANGUAGES, build_phrasebook, plural_category
from monitor.drafting.safety import blocking
from monitor.drafting.tone import angry_cue
from monitor.settings import Settings

SAMPLE_PROBLEM = {"pl": "szkło jest za wąskie", "ru": "интернет не работает второй день",
                  "en": "your charger broke after two weeks"}
COMPLAINT = {
    "pl": "Zamówiłam sukienkę dwa tygodnie temu i dalej nic nie przyszło, nikt nie odpisuje. Tragedia.",
    "ru": "Заказал куртку две недели назад, до сих пор ничего не пришло, никто не отвечает. Кошмар.",
    "en": "Ordered a dress two weeks ago and still nothing has arrived, nobody answers. Awful.",
}


def test_every_demo_post_gets_a_safe_draft_in_its_language(drafter, demo_posts, post_view, analysis_for):
    posts = [post_view(p) for p in demo_posts]
    analyses = [analysis_for(p["lang"], p["expect_flagged"]) for p in demo_posts]
    drafts = drafter.draft(posts, analyses)
    assert len(drafts) == len(demo_posts)
    for post, draft in zip(demo_posts, drafts):
        where = f"{post['id']}: {draft.text!r} {draft.findings}"
        assert draft.language == post["lang"], where
        if draft.strategy == "do_not_reply":
            assert draft.text == "" and draft.notes, where
            continue
        assert draft.text and not blocking(draft.findings), where
        assert detect(draft.text) == post["lang"], where
        if post["expect_topic"] in ("legal_threat", "fraud"):
            assert draft.strategy == "escalate" and draft.escalate_to == "legal", where


def test_demo_complaints_have_the_four_steps(drafter, demo_posts, post_view, analysis_for):
    posts = [post_view(p) for p in demo_posts]
    analyses = [analysis_for(p["lang"], p["expect_flagged"]) for p in demo_posts]
    compositions = drafter.compose_all(posts, analyses)
    complaints = [(p, c) for p, c in zip(demo_posts, compositions)
                  if p["expect_topic"] in ("delivery_late", "parcel_damaged", "wrong_item", "return_refund")
                  and p["expect_flagged"] and c.strategy != "escalate"]
    assert len(complaints) >= 5
    for post, composition in complaints:
        if angry_cue(post["text"]):          # "Thanks for nothing": the calm reply, no exclamation, no thanks
            assert composition.strategy == "calm_once"
            assert [slot for slot, _ in composition.parts] == ["calm_open", "restate", "solution"]
            assert "!" not in composition.text and "thank" not in composition.text.lower()
            continue
        assert composition.strategy == "four_step"
        assert_four_steps(composition)


def assert_four_steps(composition):
    slots = [slot for slot, text in composition.parts if text]
    steps = [slot for slot in slots if slot in STEP_SLOTS]
    assert steps == list(STEP_SLOTS), slots
    text = composition.text
    positions = [text.index(dict(composition.parts)[slot]) for slot in STEP_SLOTS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("platform", ["x", "facebook", "google_reviews"])
def test_complaints_four_steps_in_every_language(drafter, analysis_for, language, platform):
    post = PostView(text=COMPLAINT[language], platform=platform, language=language, author_handle="buyer")
    [composition] = drafter.compose_all([post], [analysis_for(language, True)])
    assert composition.topic == "delivery_late" and composition.strategy == "four_step"
    assert_four_steps(composition)
    [draft] = drafter.draft([post], [analysis_for(language, True)])
    assert not blocking(draft.findings), draft.findings
    assert "wiadomości prywatnej" in draft.text or "личные сообщения" in draft.text or "private message" in draft.text


def test_no_blame_no_deflection_no_personal_data_in_any_phrasing():
    """Every variant of every slot, filled with the shop's facts, passes the check in its language."""
    settings = Settings()
    book = build_phrasebook(settings.shop)
    from monitor.drafting.safety import PublicSafetyChecker
    from monitor.drafting.base import SafetyContext

    checker = PublicSafetyChecker(settings.shop.model_copy(update={"goodwill": settings.shop.goodwill.model_copy(
        update={"allowed": ["discount", "free_shipping", "gift"]})}))
    checked = 0
    for language in LANGUAGES:
        facts = book.facts(language)
        for voice, sections in book.tables[language].items():
            if voice not in ("formal", "informal"):
                continue
            for section, slots in sections.items():
                for slot, variants in slots.items():
                    for variant in variants:
                        text = book.render(variant, {**facts, "problem": SAMPLE_PROBLEM[language],
                                                     "quote": SAMPLE_PROBLEM[language]})
                        if not text or slot == "emoji":
                            continue
                        found = checker.check(text, SafetyContext(post_language=language if len(text) > 40 else None,
                                                                  platform="facebook"))
                        assert not found, (language, voice, section, slot, text, found)
                        checked += 1
    assert checked > 300


def test_russian_formal_uses_capitalised_vy_and_informal_uses_ty(analysis_for):
    post = PostView(text=COMPLAINT["ru"], platform="facebook", language="ru")
    formal = build_drafter(Settings()).draft([post], [analysis_for("ru", True)])[0].text
    informal = build_drafter(Settings.model_validate({"drafting": {"address": "informal"}})).draft(
        [post], [analysis_for("ru", True)])[0].text
    assert not re.search(r"(?<!\w)(ты|тебя|тебе|твой|твоя|извини|пришли|напиши)(?!\w)", formal, re.I), formal
    assert not re.search(r"(?<!\w)(вы|вас|вам|ваш\w*)(?!\w)", formal), formal      # lower-case "вы" never in formal
    assert re.search(r"(?<!\w)(извини|прости|пришли|напиши)(?!\w)", informal, re.I), informal


def test_signature_and_emoji_follow_the_brand_voice(analysis_for):
    drafter = build_drafter(Settings.model_validate({"drafting": {"signature": "Ania, Demo Shop", "emoji": True}}))
    praise = PostView(text="Super sklep, wszystko przyszło szybko, dziękuję!", platform="instagram", language="pl")
    complaint = PostView(text=COMPLAINT["pl"], platform="facebook", language="pl")
    thanks, four_step = drafter.draft([praise, complaint], [analysis_for("pl", False), analysis_for("pl", True)])
    assert thanks.strategy == "thanks" and thanks.text.endswith("– Ania, Demo Shop")
    assert re.search(r"[🙂😊💛]", thanks.text)
    assert four_step.strategy == "four_step" and not re.search(r"[🙂😊💛]", four_step.text)   # no emoji in complaints


def test_goodwill_only_where_policy_allows_and_marked_for_the_approver(analysis_for):
    post = PostView(text=COMPLAINT["en"], platform="facebook", language="en")
    allowed = build_drafter(Settings()).draft([post], [analysis_for("en", True)])[0]
    assert allowed.goodwill and any("Goodwill gesture suggested" in note for note in allowed.notes)
    none = build_drafter(Settings.model_validate({"shop": {"goodwill": {"allowed": []}}})).draft(
        [post], [analysis_for("en", True)])[0]
    assert none.goodwill is None and not re.search(r"discount|free shipping|on us|gift", none.text, re.I)
    praise = build_drafter(Settings()).draft([PostView(text="Love it, thanks!", language="en")],
                                             [analysis_for("en", False)])[0]
    assert praise.goodwill is None


def test_x_drafts_fit_in_280_weighted_characters(analysis_for):
    drafter = build_drafter(Settings.model_validate({"drafting": {"signature": "Aleksandra, Customer Care Team"}}))
    posts, analyses = [], []
    for language in LANGUAGES:
        for text in (COMPLAINT[language], "Paczka przyszła rozbita, kubki w kawałkach.",
                     "Посылка пришла разбитой, все чашки вдребезги.", "Box arrived smashed, the mugs are in pieces."):
            posts.append(PostView(text=text, platform="x", language=language))
            analyses.append(analysis_for(language, True))
    for draft in drafter.draft(posts, analyses):
        assert "length" not in {f.code for f in draft.findings}, draft.text


def test_legal_threat_and_fraud_are_escalated_with_a_neutral_acknowledgement(drafter, analysis_for):
    posts = [
        PostView(text="Jeśli nie oddacie pieniędzy, składam pozew do sądu.", language="pl"),
        PostView(text="Это мошенники, деньги взяли, товар не отправили!", language="ru"),
        PostView(text="The order was fine, but the support agent was rude.", language="en"),  # a flag from analysis
    ]
    analyses = [analysis_for("pl", True), analysis_for("ru", True),
                analysis_for("en", True, flags=[Flag("legal_threat", "threatens court: 'small claims'")])]
    for draft in drafter.draft(posts, analyses):
        assert draft.strategy == "escalate" and draft.escalate_to == "legal"
        assert any("legal@demo-shop.example" in note for note in draft.notes)
        assert not re.search(r"przeprasz|извин|sorry|apolog|zwrot|возврат|refund", draft.text, re.I), draft.text
        assert not blocking(draft.findings)


def test_abuse_gets_one_calm_sentence_or_no_reply(drafter, analysis_for):
    insult = PostView(text="Banda idiotów, jesteście żałośni.", platform="x", language="pl")
    spam = PostView(text="Make $5000 a week from home!!! DM me http://spam.example", language="en")
    calm, skip = drafter.draft([insult, spam], [analysis_for("pl", True), analysis_for("en", False)])
    assert calm.strategy == "calm_once" and calm.text.count(".") + calm.text.count("!") == 1
    assert "idiot" not in calm.text.lower() and not blocking(calm.findings)
    assert skip.strategy == "do_not_reply" and skip.text == ""


@pytest.mark.parametrize("language,text,strategy,must", [
    ("pl", "Ile trwa dostawa do Gdańska?", "answer", "dni robocze"),
    ("ru", "Как вернуть товар и когда придут деньги?", "answer", "14 дней"),
    ("en", "Can I pay by card when ordering?", "answer", "by card"),
    ("en", "Is this kettle made of stainless steel inside?", "holding", "today by 17:00"),
    ("pl", "Czy będzie jeszcze rozmiar 40 tych butów?", "holding", "dziś do 17:00"),
    ("ru", "Отличный магазин, всё пришло быстро, спасибо!", "thanks", "спасибо"),
])
def test_questions_get_answers_praise_gets_thanks(drafter, analysis_for, language, text, strategy, must):
    [draft] = drafter.draft([PostView(text=text, language=language)], [analysis_for(language, False)])
    assert draft.strategy == strategy, draft
    assert must.lower() in draft.text.lower()
    assert not re.search(r"stron[iy]e|opisie|сайте|описании|website|description", draft.text, re.I)
    assert not blocking(draft.findings)


def test_drafts_are_deterministic_and_varied(drafter, analysis_for):
    texts = [f"Zamówienie {n} dni temu, paczki dalej brak, jestem zła. Wpis nr {n}" for n in range(60)]
    posts = [PostView(text=t, platform="facebook", language="pl") for t in texts]
    analyses = [analysis_for("pl", True)] * len(posts)
    first = [d.text for d in drafter.draft(posts, analyses)]
    again = [d.text for d in drafter.draft(posts, analyses)]
    assert first == again
    assert len(set(first)) >= 30                      # 60 similar complaints, at least 30 different replies
    assert max(first.count(t) for t in set(first)) <= 6


def test_language_falls_back_to_detection_and_english_for_unsupported(drafter, analysis_for):
    russian = PostView(text="Посылка пришла разбитой, чашка треснула.")
    german = PostView(text="Das Paket ist immer noch nicht angekommen, ich warte seit zwei Wochen.")
    none = analysis_for(None, True)
    ru_draft, de_draft = drafter.draft([russian, german], [none, none])
    assert ru_draft.language == "ru" and detect(ru_draft.text) == "ru"
    assert de_draft.language == "de" and "language" in {f.code for f in de_draft.findings}
    assert any("translate" in note for note in de_draft.notes)


def test_topics_are_embedded_in_one_batch_call(settings, analysis_for):
    from monitor.analysis.encoder import embed
    from monitor.drafting.drafter import PhrasebookDrafter
    from monitor.drafting.safety import PublicSafetyChecker
    from monitor.drafting.topics import TopicClassifier

    from monitor.drafting import _shared_classifier
    from monitor.drafting.topics import load_examples

    shared = _shared_classifier()
    shared.classify(["warm-up"])                      # the session's example embeddings, computed once
    calls = []

    def counting(texts):
        calls.append(len(texts))
        if list(texts) == list(load_examples().texts):
            return shared._example_vectors
        return embed(texts)

    drafter = PhrasebookDrafter(settings.shop, settings.drafting, build_phrasebook(settings.shop),
                                PublicSafetyChecker(settings.shop), TopicClassifier(counting))
    posts = [PostView(text=COMPLAINT[l], language=l) for l in LANGUAGES] * 5
    drafter.draft(posts, [analysis_for(p.language, True) for p in posts])
    assert calls[1:] == [15]            # after the examples: one call for the whole batch


def test_plural_categories():
    assert [plural_category("pl", n) for n in (1, 2, 5, 12, 22, 25)] == ["one", "few", "many", "many", "few", "many"]
    assert [plural_category("ru", n) for n in (1, 3, 11, 21, 24, 14)] == ["one", "few", "many", "one", "few", "many"]
    book = build_phrasebook(Settings.model_validate({"shop": {"returns": {"days": 21}, "answer_within_hours": 1}}).shop)
    assert book.facts("ru")["return_within"] == "в течение 21 дня"
    assert book.facts("ru")["answer_within"] == "в течение часа"
    assert book.facts("pl")["answer_within"] == "w ciągu godziny"


def test_the_shop_can_override_phrasings(tmp_path, analysis_for):
    (tmp_path / "pl.toml").write_text('[formal.praise]\nthanks = ["Ogromne dzięki od całej ekipy!"]\n', "utf-8")
    drafter = build_drafter(Settings.model_validate({"drafting": {"phrases_dir": str(tmp_path)}}))
    [draft] = drafter.draft([PostView(text="Świetny sklep, polecam każdemu!", language="pl")], [analysis_for("pl", False)])
    assert draft.text.startswith("Ogromne dzięki od całej ekipy!")
    (tmp_path / "ru.toml").write_text("[formal.praise\nthanks = 1", "utf-8")
    from monitor.settings import SettingsError

    with pytest.raises(SettingsError, match="phrases_dir"):
        build_drafter(Settings.model_validate({"drafting": {"phrases_dir": str(tmp_path)}}))
    with pytest.raises(SettingsError, match="goodwill"):
        build_drafter(Settings.model_validate({"shop": {"goodwill": {"topics": ["late_delivery"]}}}))
