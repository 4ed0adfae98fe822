"""Severity: how scores, risk words, stars and reach combine into one number and its reasons."""
from monitor.analysis.base import PostView
from monitor.analysis.lexicon import RiskLexicon
from monitor.analysis.severity import assess_evidence, build_analysis, compact_number

CALM = {"negative": 0.05, "neutral": 0.9, "positive": 0.05, "anger": 0.05}
NEGATIVE = {"negative": 0.93, "neutral": 0.05, "positive": 0.02, "anger": 0.2}
LEXICON = RiskLexicon.load()


def analyse(text, scores, **post):
    return build_analysis(PostView(text=text, **post), language="pl", scores=scores,
                          matches=LEXICON.find(text), flag_threshold=0.5, model_version="test")


def test_reasons_read_at_a_glance():
    result = analyse("Pozew gotowy.", NEGATIVE, author_reach=48_000)
    assert result.summary == "negative, 0.93; threatens legal action: 'Pozew'; author has 48k followers"
    assert result.flagged and result.sentiment == "negative"
    assert [flag.code for flag in result.flags] == ["negative", "legal_threat", "reach"]


def test_calm_post_is_not_flagged_and_reach_alone_adds_nothing():
    result = analyse("Czy macie rozmiar 44?", CALM, author_reach=2_000_000, likes=5000)
    assert not result.flagged
    assert result.flags == () and result.severity == 0.0 and result.summary == ""


def test_reach_raises_severity_of_a_negative_post():
    small = analyse("Słaba obsługa.", NEGATIVE, author_reach=20)
    large = analyse("Słaba obsługa.", NEGATIVE, author_reach=48_000, likes=300, shares=90, replies=60)
    assert large.severity > small.severity
    reach = next(flag for flag in large.flags if flag.code == "reach")
    assert reach.reason == "author has 48k followers; 300 likes, 90 shares, 60 replies"


def test_engagement_counts_without_followers():
    quiet = analyse("Oszuści.", CALM)
    viral = analyse("Oszuści.", CALM, likes=2000, shares=400)
    assert viral.severity > quiet.severity


def test_low_star_rating_is_negative_evidence():
    neutral_text = {"negative": 0.3, "neutral": 0.5, "positive": 0.2, "anger": 0.1}
    one_star = analyse("Towar przyszedł.", neutral_text, rating=1)
    five_stars = analyse("Towar przyszedł.", neutral_text, rating=5)
    assert one_star.severity > five_stars.severity == 0.0
    assert "rated 1/5" in one_star.summary


def test_risk_word_alone_can_flag_and_counts_less_in_a_glowing_post():
    threat = analyse("Zgłaszam sprawę do UOKiK i składam pozew.", CALM)
    assert threat.flagged
    glowing = {"negative": 0.01, "neutral": 0.04, "positive": 0.95, "anger": 0.0}
    praise = analyse("Zero oszustwa, uczciwy sklep!", glowing)
    plain = analyse("Zero oszustwa, uczciwy sklep!", CALM)
    assert praise.severity < plain.severity
    assert not praise.flagged


def test_severity_stays_within_0_and_1_with_many_reasons():
    text = "Oszuści! Pozew, UOKiK, dziennikarze, zatrucie, wyciek danych, nie kupujcie, idioci"
    result = analyse(text, {**NEGATIVE, "anger": 0.99}, author_reach=10**9, likes=10**7, rating=1)
    assert 0.99 < result.severity <= 1.0
    flags, severity = assess_evidence(PostView(text=""), CALM, [])
    assert (flags, severity) == ((), 0.0)


def test_compact_numbers():
    assert [compact_number(n) for n in (950, 1240, 48_000, 1_250_000)] == ["950", "1.2k", "48k", "1.2M"]


def test_severity_fit_reaches_the_operating_point_on_labelled_evidence():
    """Synthetic calibration rows: negatives are more negative than the rest, some carry a verdict."""
    import numpy as np

    from monitor.analysis.lexicon import Match
    from monitor.analysis.severity_fit import Evidence, Params, fit, operating_point, severity

    rng = np.random.default_rng(0)
    n = 3000
    truth = rng.integers(0, 3, n)
    negative = np.clip(np.where(truth == 0, rng.normal(0.7, 0.15, n), rng.normal(0.25, 0.15, n)), 0, 1)
    scores = [{"negative": float(p), "positive": float(1 - p) * 0.5, "anger": 0.1} for p in negative]
    verdict = (truth == 0) & (rng.random(n) < 0.3)
    matches = [[Match("verdict", "harsh verdict", 0.25, ("dno",))] if v else [] for v in verdict]
    evidence = Evidence.build(scores, matches, truth, rng.random(n) < 0.5, np.array(["a", "b"])[rng.integers(0, 2, n)])
    before = operating_point(evidence, severity(evidence, Params()) >= 0.5)
    params, after = fit(evidence, others_max=0.04, rounds=1)
    assert after["others"] <= 0.04
    assert after["negative"] > before["negative"] + 0.2
    assert params.weights["verdict"] > 0


def test_adapting_to_a_shop_moves_the_flag_towards_its_labels_keeping_the_public_prior():
    """A shop that calls mildly negative posts complaints: with enough labels the flag follows it."""
    import numpy as np

    from monitor.analysis.severity_fit import SHOP, Evidence, Params, adapt, operating_point, severity

    rng = np.random.default_rng(1)

    def evidence(n, negative_mean, name):
        truth = rng.integers(0, 2, n)
        negative = np.clip(np.where(truth == 0, rng.normal(negative_mean, 0.1, n), rng.normal(0.2, 0.1, n)), 0, 1)
        return Evidence.build([{"negative": float(p)} for p in negative], [[] for _ in range(n)], truth,
                              np.ones(n, bool), np.array([name] * n))

    public = evidence(2000, 0.85, "public")
    shop = evidence(300, 0.6, SHOP)                    # the shop's complaints read milder
    start = Params()
    before = operating_point(shop, severity(shop, start) >= 0.5)
    params, _ = adapt(public, shop, start, full_weight_at=200)
    after = operating_point(shop, severity(shop, params) >= 0.5)
    assert after["negative"] > before["negative"] + 0.3
    assert operating_point(public, severity(public, params) >= 0.5)["others"] <= 0.06
