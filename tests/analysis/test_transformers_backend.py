"""The transformers backend, loaded through the same code path as a real Hub model, offline."""
import pytest

from monitor.analysis import AnalyserError, PostView, build_analyser
from monitor.analysis.transformers_backend import TransformersModelError, label_mapping
from monitor.settings import Settings


@pytest.fixture(scope="module")
def transformers_analyser(tiny_model_dir):
    settings = Settings(analysis={"backend": "transformers", "model": str(tiny_model_dir), "batch_size": 4})
    return build_analyser(settings)


def test_tiny_local_model_runs_through_the_pipeline(transformers_analyser):
    posts = [PostView(text="bad shop"), PostView(text="good " * 400), PostView(text=""),
             PostView(text="Zły sklep, pozew gotowy!", author_reach=50_000)]
    results = transformers_analyser.assess(posts)
    assert len(results) == 4
    for result in results:
        assert result.model_version.startswith("transformers:")
        assert abs(sum(result.scores[k] for k in ("negative", "neutral", "positive")) - 1) < 1e-3
        assert result.sentiment == "negative"          # the tiny model is built to say so
    assert results[3].flagged
    assert {"legal_threat", "reach"} <= {flag.code for flag in results[3].flags}


def test_long_input_is_truncated_not_rejected(transformers_analyser):
    # model_max_length is 32 tokens: 400 words would crash an untruncated pipeline
    [result] = transformers_analyser.assess([PostView(text="bad shop " * 400)])
    assert result.sentiment == "negative"


@pytest.mark.parametrize("labels,expected", [
    ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["negative", "neutral", "positive"]),
    ({0: "negative", 1: "neutral", 2: "positive"}, ["negative", "neutral", "positive"]),
    ({0: "Positive", 1: "Negative", 2: "Neutral"}, ["positive", "negative", "neutral"]),
    ({0: "LABEL_0", 1: "LABEL_1"}, ["negative", "positive"]),
    ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
     ["negative", "negative", "neutral", "positive", "positive"]),
])
def test_label_mapping(labels, expected):
    mapping = label_mapping(labels)
    assert [mapping[labels[i]] for i in sorted(labels)] == expected


def test_unknown_labels_are_a_clear_error():
    with pytest.raises(TransformersModelError, match="cannot map"):
        label_mapping({0: "toxic", 1: "not toxic", 2: "spam"})


def test_missing_model_is_a_settings_error_not_a_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(analysis={"backend": "transformers", "model": str(tmp_path / "nope")})
    with pytest.raises(AnalyserError, match=r"\[analysis\] model"):
        build_analyser(settings)
