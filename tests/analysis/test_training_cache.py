"""The encoding cache keeps the rows encoded so far: asking for more encodes only the new ones."""
import numpy as np

from monitor.analysis.corpus import load_corpus
from monitor.analysis.features import encode, pooled
from monitor.analysis.text import clean
from monitor.analysis.training import encode_rows
from tests.analysis.test_cli import NEGATIVE, POSITIVE, write_rows


def test_partial_cache_grows_and_matches_a_fresh_encoding(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    long_review = " ".join(["The parcel came late and the box was torn."] * 6)   # > 200 chars: has sentences
    write_rows(data / "reviews.csv", [(t, "negative", "en", "") for t in NEGATIVE + [long_review]]
               + [(t, "positive", "en", "") for t in POSITIVE])
    corpus = load_corpus(data)
    cache = tmp_path / "cache"
    lines = []
    first = encode_rows(corpus, corpus.rows[:4], data, cache, lines.append)
    assert any("4 of 13" in line for line in lines) and list(cache.rglob("*.part.npz"))
    lines.clear()
    everything = encode_rows(corpus, corpus.rows[::-1], data, cache, lines.append)
    assert any("9 of 13" in line for line in lines)               # only the rows not encoded before
    assert not list(cache.rglob("*.part.npz")) and len(list(cache.rglob("*.npz"))) == 1
    fresh = pooled(encode([clean(row.text) for row in corpus.rows[::-1]]))
    assert np.allclose(everything, fresh, atol=2e-3)              # float16 on disk
    assert np.allclose(first, everything[::-1][:4], atol=2e-3)
