"""The shipped embedded analyser: batching, order, long reviews, odd input, settings."""
import tomllib
from importlib import resources

import numpy as np
import pytest

from monitor.analysis import AnalyserError, PostView, build_analyser
from monitor.analysis.embedded import Heads
from monitor.analysis.features import LONG_CHARS, encode, pooled
from monitor.settings import Settings


def test_assess_returns_one_analysis_per_post_in_order(embedded_analyser):
    posts = [PostView(text="Dziękuję, wszystko super, polecam!"),
             PostView(text="Это ужасно, деньги не вернули, обслуживание отвратительное."),
             PostView(text="Worst shop ever. Never again, total waste of money.")]
    results = embedded_analyser.assess(posts)
    assert [r.language for r in results] == ["pl", "ru", "en"]
    assert [r.sentiment for r in results] == ["positive", "negative", "negative"]
    for result in results:
        assert result.model_version == embedded_analyser.version and result.model_version.startswith("embedded:")
        assert abs(sum(result.scores[k] for k in ("negative", "neutral", "positive")) - 1) < 1e-3
        assert 0.0 <= result.scores["anger"] <= 1.0 and 0.0 <= result.severity <= 1.0
        assert result.flagged == (result.severity >= 0.5)
    assert not results[0].flagged and results[1].flagged
    assert embedded_analyser.assess([]) == []


def test_one_encoder_call_for_a_batch_including_review_sentences():
    calls = []

    def counting_embed(texts):
        calls.append(len(texts))
        return np.ones((len(texts), 512), np.float32)

    review = "Towar dotarł szybko. " * 20 + "Niestety po tygodniu przestał działać."
    encoded = encode(["krótki wpis", review, "inny wpis"], counting_embed)
    assert len(review) > LONG_CHARS
    assert calls == [3 + 21]                       # 3 texts + 21 sentences of the review, one call
    assert pooled(encoded).shape == (3, 1024)


def test_angry_sentence_in_a_long_review_is_not_averaged_away(embedded_analyser):
    praise = "Sklep ma ładną stronę i duży wybór. " * 6
    review = praise + "Ale zamówienie nie dotarło od miesiąca, nikt nie odpowiada, jestem wściekły, oszuści!"
    [long_review] = embedded_analyser.assess([PostView(text=review, kind="review")])
    assert long_review.flagged
    assert "fraud" in {flag.code for flag in long_review.flags}


@pytest.mark.parametrize("text", ["", "   ", "👍👍👍", "<script>alert(1)</script>", "\u200b\u200b", "a" * 100_000,
                                  "Ignore previous instructions. " * 500])
def test_odd_input_never_raises(embedded_analyser, text):
    [result] = embedded_analyser.assess([PostView(text=text)])
    assert 0.0 <= result.severity <= 1.0


def test_text_without_words_is_neutral(embedded_analyser):
    [result] = embedded_analyser.assess([PostView(text="👍 !!!", author_reach=10**6)])
    assert result.sentiment == "neutral" and not result.flagged


def test_star_rating_and_threshold_come_from_settings():
    strict = build_analyser(Settings(analysis={"flag_threshold": 0.95}))
    post = PostView(text="Zamówienie przyszło po czasie.", kind="review", rating=1)
    [result] = strict.assess([post])
    assert "rated 1/5" in result.summary
    assert result.flagged == (result.severity >= 0.95)


def test_shipped_heads_are_small_and_record_their_training_data():
    heads = Heads.load()
    size = resources.files("monitor.analysis").joinpath("data/heads.npz").stat().st_size \
        if hasattr(resources.files("monitor.analysis").joinpath("data/heads.npz"), "stat") else None
    assert size is None or size < 5_000_000
    trained_on = heads.meta["trained_on"]
    assert "pl_hatespeech_ipipan" not in trained_on and "ru_rusentiment_vk" not in trained_on
    assert {"pl_allegro_reviews_klej", "ru_rusentitweet", "en_tweeteval"} <= set(trained_on)
    assert heads.sentiment.classes == ("negative", "neutral", "positive")


def test_bad_heads_path_is_a_settings_error(tmp_path):
    broken = tmp_path / "heads.npz"
    broken.write_bytes(b"not a numpy file")
    with pytest.raises(AnalyserError, match=r"\[analysis\] heads_path"):
        build_analyser(Settings(analysis={"heads_path": str(broken)}))


def test_keywords_backend_needs_no_model():
    analyser = build_analyser(Settings(analysis={"backend": "keywords"}))
    calm, angry = analyser.assess([
        PostView(text="Dziękuję, super obsługa, polecam!"),
        PostView(text="Oszuści! Nie kupujcie tu, składam pozew.", author_reach=20_000),
    ])
    assert analyser.version.startswith("keywords")
    assert calm.sentiment == "positive" and not calm.flagged
    assert angry.sentiment == "negative" and angry.flagged
    assert {"fraud", "boycott", "legal_threat"} <= {flag.code for flag in angry.flags}


def _demo_posts():
    path = resources.files("monitor").joinpath("data/demo_posts.toml")
    if not path.is_file():
        return []
    return tomllib.loads(path.read_text("utf-8"))["posts"]


# The demo posts are a sanity test, not a tuning target: the severity is fitted on data. Where the
# fitted flag and the demo's expectation differ, the decision was taken on evidence and is written here.
DEMO_DISAGREEMENTS = {
    # "I can't log in, the password reset email never arrives": p(negative) 0.83; the held-out data
    # labels such account problems negative, and a locked-out customer is worth answering first.
    "en-account-1": True,
}


@pytest.mark.skipif(not _demo_posts(), reason="monitor/data/demo_posts.toml not written yet")
def test_flag_decision_on_every_demo_post(embedded_analyser):
    posts = _demo_posts()
    views = [PostView(text=p["text"], platform=p["platform"], kind=p["kind"], author_handle=p.get("author", ""),
                      author_reach=p.get("reach", 0), likes=p.get("likes", 0), shares=p.get("shares", 0),
                      replies=p.get("replies", 0), rating=p.get("rating")) for p in posts]
    results = embedded_analyser.assess(views)
    wrong = [(p["id"], p["expect_flagged"], round(r.severity, 2), r.summary)
             for p, r in zip(posts, results) if r.flagged != DEMO_DISAGREEMENTS.get(p["id"], p["expect_flagged"])]
    assert wrong == []
