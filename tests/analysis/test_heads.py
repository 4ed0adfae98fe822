"""The numpy heads: they learn, calibrate, and survive a save/load round trip."""
import numpy as np

from monitor.analysis.embedded import Heads
from monitor.analysis.heads import TrainConfig, fit_temperature, train_head, weighted_log_loss


CENTRES = np.random.default_rng(42).standard_normal((3, 16)) * 2


def toy(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = CENTRES
    return (centres[y] + rng.standard_normal((n, 16))).astype(np.float32), y


def test_head_learns_separable_classes_and_calibrates():
    x, y = toy(600, 0)
    xv, yv = toy(300, 99)
    head = train_head(x, y, np.ones(len(y)), ("a", "b", "c"), TrainConfig(hidden=32, epochs=20, seed=1), xv, yv)
    assert (head.predict_proba(xv).argmax(1) == yv).mean() > 0.9
    before = weighted_log_loss(head.predict_proba(xv), yv)
    head.temperature = fit_temperature(head, xv, yv)
    assert weighted_log_loss(head.predict_proba(xv), yv) <= before + 1e-9


def test_heads_round_trip(tmp_path):
    x, y = toy(200, 1)
    sentiment = train_head(x, y, np.ones(len(y)), ("negative", "neutral", "positive"), TrainConfig(hidden=8, epochs=2))
    anger = train_head(x, (y == 0).astype(int), np.ones(len(y)), ("calm", "angry"), TrainConfig(hidden=0, epochs=2))
    sentiment.temperature = 1.7
    Heads(sentiment, anger, {"version": "test-1"}).save(tmp_path / "heads.npz")
    loaded = Heads.load(tmp_path / "heads.npz")
    assert loaded.version == "test-1" and loaded.sentiment.temperature == np.float32(1.7)
    assert np.allclose(loaded.sentiment.predict_proba(x), sentiment.predict_proba(x), atol=2e-3)
    assert np.allclose(loaded.anger.predict_proba(x), anger.predict_proba(x), atol=2e-3)
