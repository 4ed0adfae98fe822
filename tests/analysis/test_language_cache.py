"""The language model is unpacked once into the user's cache and read from there afterwards
(it is what made `monitor approve` slow); a cache that cannot be used changes nothing."""
from __future__ import annotations

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.analysis.language import _load_identifier

TEXTS = ("Dziękujemy, sprawdzamy Pani paczkę.", "Спасибо, мы уже проверяем заказ.", "Thanks, we are on it.")


def same_model(a, b) -> bool:
    return (np.array_equal(a.nb_ptc, b.nb_ptc) and np.array_equal(a.nb_pc, b.nb_pc) and a.nb_classes == b.nb_classes
            and list(a.tk_nextmove) == list(b.tk_nextmove) and list(a.tk_row) == list(b.tk_row)
            and a.tk_output == b.tk_output)


def test_the_unpacked_model_is_cached_and_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    shipped = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    first = _load_identifier()
    cached = list((tmp_path / "reply-monitor" / "langid").glob("model-*.npz"))
    assert len(cached) == 1
    second = _load_identifier()
    assert same_model(first, shipped) and same_model(second, shipped)
    assert [second.classify(t) for t in TEXTS] == [shipped.classify(t) for t in TEXTS]


def test_a_broken_or_unwritable_cache_falls_back_to_the_shipped_model(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _load_identifier()
    (cached,) = (tmp_path / "reply-monitor" / "langid").glob("model-*.npz")
    cached.write_bytes(b"not a model")
    shipped = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    assert same_model(_load_identifier(), shipped)
    assert same_model(_load_identifier(), shipped) and cached.stat().st_size > 1000   # unpacked anew
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert same_model(_load_identifier(), shipped)
