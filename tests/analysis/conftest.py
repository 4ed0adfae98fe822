"""Fixtures for the analysis tests: the shipped analyser (the encoder loads once per session)
and a tiny transformers model built on disk, offline."""
from __future__ import annotations

import os

import pytest

from monitor.settings import Settings


@pytest.fixture(scope="session")
def default_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def embedded_analyser(default_settings):
    from monitor.analysis import build_analyser

    return build_analyser(default_settings)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A randomly initialised 1-layer BERT and a word-level tokenizer, saved like a real model."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    folder = tmp_path_factory.mktemp("tiny-sentiment")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad", "shop", "the", "is", "a", "zły", "sklep", "плохо"]
    tokenizer = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        model_max_length=32,
    ).save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(words), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, num_labels=3,
        id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, label2id={"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2},
    )
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():  # make the classifier say "negative" whatever it reads: a checkable behaviour
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([4.0, 0.0, -4.0]))
    model.save_pretrained(folder)
    return folder
