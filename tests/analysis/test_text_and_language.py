"""Clean-up of raw posts, sentence splitting, and language detection on short posts."""
import pytest

from monitor.analysis.language import detect, detect_many
from monitor.analysis.text import MAX_CHARS, clean, split_sentences


def test_clean_removes_markup_scripts_entities_and_invisible_characters():
    raw = "<p>Hello&nbsp;<b>wor</b>ld</p><script>alert('x')</script>\u200b\u202e ok &amp; done"
    assert clean(raw) == "Hello world ok & done"


def test_clean_bounds_huge_input():
    assert len(clean("a" * (MAX_CHARS * 5))) == MAX_CHARS
    assert clean("") == "" and clean(None) == ""


def test_sentences_of_a_review():
    review = "Towar ok. Ale dostawa trwała 3 tygodnie!!! Nie polecam…\nObsługa nie odpowiada"
    assert split_sentences(review) == ["Towar ok.", "Ale dostawa trwała 3 tygodnie!!!", "Nie polecam…",
                                       "Obsługa nie odpowiada"]


def test_sentence_split_is_bounded_and_keeps_the_verdict():
    text = " ".join(f"Zdanie {i}." for i in range(200)) + " Nie polecam."
    sentences = split_sentences(text, max_sentences=10)
    assert len(sentences) == 10 and sentences[-1] == "Nie polecam."


@pytest.mark.parametrize("text,lang", [
    ("Paczka nie dotarła", "pl"), ("Dziękuję, super!", "pl"), ("Gdzie moja paczka?", "pl"),
    ("Где мой заказ?", "ru"), ("Спасибо, всё пришло", "ru"), ("ну и бред!", "ru"),
    ("Where is my order?", "en"), ("Thanks, love it!", "en"), ("@DemoShop still waiting", "en"),
    ("Привіт, дякую за швидку доставку", "uk"), ("Где мой заказ, блин?", "ru"),
])
def test_short_posts_get_their_language(text, lang):
    assert detect(text) == lang


def test_no_letters_no_language_and_known_language_is_kept():
    assert detect("👍👍 !!! 123") is None
    assert detect_many(["Where is my order?", "12345"], ["pl", None]) == ["pl", None]


def test_languages_can_be_restricted():
    assert detect("Wo ist meine Bestellung?", ("pl", "ru", "en")) in ("pl", "en")
    assert detect("Wo ist meine Bestellung?", ("pl", "ru", "en", "de")) == "de"
