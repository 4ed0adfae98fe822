"""A first poll encodes each text once: the analysis and the drafting stage share the encoder's
memo of the batch's vectors instead of running the model twice on the same post."""
from __future__ import annotations

from collections import Counter

import pytest

from monitor.service import Monitor
from tests.core.conftest import SETTINGS
from tests.core.support import item

TEXTS = ["My parcel never arrived and nobody answers the phone.",
         "Paczka przyszła uszkodzona, proszę o zwrot pieniędzy.",
         "Спасибо, всё пришло быстро!",
         "Where is my order? I paid a week ago.",
         "Zamówienie wciąż nie dotarło, to już dwa tygodnie."]


@pytest.fixture
def counted_model(monkeypatch):
    """The real USE model, with every text it is asked to encode written down."""
    from monitor.analysis import encoder
    from monitor.drafting import _shared_classifier

    _shared_classifier().classify(["warm-up"])      # the topic examples: embedded once per process
    encoder.clear_memo()
    model = encoder._model()
    seen: Counter = Counter()
    real = model.encode

    def encode(texts):
        seen.update(texts)
        return real(texts)

    monkeypatch.setattr(model, "encode", encode)
    yield seen
    encoder.clear_memo()


def test_first_poll_encodes_each_text_once(make_settings, platform, counted_model):
    service = Monitor(make_settings(SETTINGS), environ={})
    service.init()
    service.use_connector("mem", platform)
    try:
        platform.items = [item(n, TEXTS[n % len(TEXTS)] + f" ({n})") for n in range(1, 31)]
        service.poll()
        report = service.process()
        assert (report.assessed, report.drafted) == (30, 30)
    finally:
        service.close()
    assert counted_model, "the encoder model was never called"
    assert max(counted_model.values()) == 1
    assert sum(counted_model.values()) == 30       # analysis and drafting read the same 30 texts
