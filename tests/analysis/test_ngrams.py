"""The character n-gram model: what the hasher counts, that it learns, and that the blend ships intact."""
import numpy as np

from monitor.analysis.embedded import Heads
from monitor.analysis.heads import TrainConfig, train_head
from monitor.analysis.ngrams import Blend, NgramConfig, fit_blend, hash_texts, train_ngram_model

SMALL = 12   # 4096 buckets: collisions are rare enough for these checks


def grams(text):
    hashed = hash_texts([text], SMALL)
    return set(hashed.bucket.tolist())


def test_ngrams_stay_inside_words_and_ignore_case_and_spacing():
    assert grams("ab cd") == grams("ab") | grams("cd")
    assert grams("Ab   CD") == grams("ab cd")
    # " ab", "ab ", " ab ", "ab": 2-grams " a", "ab", "b ", 3-grams " ab", "ab ", 4-gram " ab "
    assert len(grams("ab")) == 6


def test_diacritics_are_kept_and_also_folded():
    assert grams("zolty") < grams("żółty")            # the folded spelling is a subset ...
    assert grams("żółty") - grams("zolty")            # ... and the written one is kept
    assert grams("ёж") & grams("еж")
    assert grams("kot") == grams("kot")                # nothing to fold: nothing counted twice
    hashed = hash_texts(["kot"], SMALL)
    assert np.allclose(hashed.value, hashed.value[0])


def test_batch_gives_the_same_rows_as_one_text_at_a_time():
    texts = ["Paczka nie dotarła!", "", "   ", "Ужасный магазин", "great 👍 shop", "x"]
    batch = hash_texts(texts, SMALL)
    assert batch.rows == len(texts)
    for row, text in enumerate(texts):
        alone = hash_texts([text], SMALL)
        mine = batch.doc == row
        assert sorted(zip(batch.bucket[mine], batch.value[mine])) == sorted(zip(alone.bucket, alone.value))
    norms = np.bincount(batch.doc, weights=batch.value ** 2, minlength=len(texts))
    assert np.allclose(norms, [1, 0, 0, 1, 1, 1], atol=1e-5)   # L2-normalised; no words, no features


WORDS = {0: ["awful", "broken", "okropny", "ужасный", "never again"],
         1: ["parcel", "monday", "paczka", "посылка", "size m"],
         2: ["great", "love", "świetny", "отличный", "thank you"]}


def toy(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    texts = [f"{rng.choice(WORDS[label])} {rng.choice(['the', 'ten', 'этот', 'order'])} {i}"
             for i, label in enumerate(y)]
    return texts, y


def test_model_learns_and_the_blend_round_trips_through_the_heads_file(tmp_path):
    texts, y = toy(600, 0)
    val_texts, y_val = toy(200, 1)
    classes = ("negative", "neutral", "positive")
    config = NgramConfig(epochs=4, learning_rate=0.05, buckets_log2=SMALL)
    model = train_ngram_model(hash_texts(texts, SMALL), y, np.ones(len(y)), classes, config,
                              hash_texts(val_texts, SMALL), y_val, np.ones(len(y_val)))
    assert (model.predict_proba(val_texts).argmax(1) == y_val).mean() > 0.95
    assert config.log[-1][1] < config.log[0][1]

    x = np.random.default_rng(2).standard_normal((len(val_texts), 8)).astype(np.float32)
    head = train_head(x, y_val, np.ones(len(y_val)), classes, TrainConfig(hidden=0, epochs=1))
    blend = fit_blend(head.predict_proba(x), model.predict_proba(val_texts), y_val, np.ones(len(y_val)),
                      lambda predicted: float((predicted == y_val).mean()))
    assert 0.3 <= blend.share <= 0.7
    anger = train_head(x, (y_val == 0).astype(int), np.ones(len(y_val)), ("calm", "angry"),
                       TrainConfig(hidden=0, epochs=1))
    Heads(head, anger, {"version": "t"}, model, blend).save(tmp_path / "heads.npz")
    loaded = Heads.load(tmp_path / "heads.npz")
    assert loaded.blend == Blend(np.float32(blend.share), np.float32(blend.temperature))
    blended = loaded.sentiment_proba(x, val_texts)
    assert np.allclose(blended, Heads(head, anger, {}, model, blend).sentiment_proba(x, val_texts), atol=2e-3)
    # the n-gram model carries the toy task that the random-feature head cannot
    assert (blended.argmax(1) == y_val).mean() > (head.predict_proba(x).argmax(1) == y_val).mean() + 0.3
    plain = Heads(head, anger, {"version": "t"})
    plain.save(tmp_path / "plain.npz")
    assert Heads.load(tmp_path / "plain.npz").ngrams is None
    assert np.allclose(Heads.load(tmp_path / "plain.npz").sentiment_proba(x, val_texts), head.predict_proba(x))
