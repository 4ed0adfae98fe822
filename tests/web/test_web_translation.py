"""The translation panel's optional backend: a tiny sequence-to-sequence model built here from a
word-level tokenizer (nothing downloaded), read by `LocalTranslator` offline, shown in the web
app as a machine translation for reading only; absent and said so when not configured."""
from __future__ import annotations

import os

import pytest

from web_helpers import open_post

WORDS = ["<pad>", "</s>", "<unk>", "hello", "refund", "здравствуйте", "есть", "куртка"]


@pytest.fixture(scope="module")
def tiny_translator_dir(tmp_path_factory):
    """A randomly initialised 1-layer Marian model whose output is biased to the word "hello":
    a checkable behaviour, not a translation."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    folder = tmp_path_factory.mktemp("tiny-translator")
    tokenizer = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>",
                                         eos_token="</s>", model_max_length=32).save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.MarianConfig(
        vocab_size=len(WORDS), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=32,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1)
    model = transformers.MarianMTModel(config)
    with torch.no_grad():
        model.final_logits_bias.zero_()
        model.final_logits_bias[0, WORDS.index("hello")] = 50.0
    model.generation_config.max_length = 4
    model.save_pretrained(folder)
    return folder


@pytest.fixture
def with_translator(make_settings, monitor, tiny_translator_dir):
    from monitor.translation import build_translator
    monitor.settings.translation.model = str(tiny_translator_dir)
    monitor.settings.translation.max_new_tokens = 8
    monitor.__dict__["translator"] = build_translator(monitor.settings)
    return monitor


def test_the_local_model_translates_for_reading(with_translator):
    result = with_translator.translate("Здравствуйте! Есть ли эта куртка?")
    assert result["text"].split()[0] == "hello" and result["target"] == "en"


def test_the_panel_shows_the_translation_marked_as_machine_made(client_for, with_translator):
    anna = client_for("anna")
    post_id = with_translator.seeded["question"]
    page = open_post(anna, post_id)
    assert 'id="translate-link"' in page and "Translation is not set up" not in page
    page = anna.get(f"/queue?post={post_id}&translate=1").text
    assert 'id="translation"' in page and "Machine translation" in page and "hello" in page
    # for reading only: nothing stored
    assert "hello" not in with_translator.show(post_id).post["text"]


def test_without_a_model_the_panel_says_it_is_not_set_up(client_for, monitor):
    assert monitor.translator is None
    page = open_post(client_for("anna"), monitor.seeded["question"])
    assert 'id="translation-absent"' in page and 'id="translate-link"' not in page
    assert monitor.translate("Здравствуйте") is None


def test_a_missing_model_folder_is_a_settings_error(monitor, tmp_path):
    from monitor.settings import SettingsError
    from monitor.translation import build_translator
    monitor.settings.translation.model = str(tmp_path / "nothing-here")
    with pytest.raises(SettingsError, match="not a folder"):
        build_translator(monitor.settings)
