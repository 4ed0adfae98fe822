"""An optional translation panel: a colleague who does not read Polish or Russian sees what a
post says. The backend is a local sequence-to-sequence model folder (for example an Opus-MT
model copied onto the server) read with transformers, offline: none is shipped and nothing is
ever downloaded. Without `[translation] model` the web app says that translation is not set up.

A translation is for reading only: it is never stored, drafted from or posted."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from monitor.settings import SettingsError

log = logging.getLogger(__name__)
MAX_INPUT_CHARS = 2_000


@dataclass(frozen=True)
class Translation:
    text: str
    source_language: Optional[str]
    target_language: str
    model: str


class LocalTranslator:
    """A transformers seq2seq model from a local folder (loaded on first use, CPU)."""

    def __init__(self, folder: str, target_language: str = "en", max_new_tokens: int = 256):
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise SettingsError("[translation] model", f"{self.folder} is not a folder with a translation model")
        self.target_language = target_language
        self.max_new_tokens = max_new_tokens
        self._loaded: Optional[tuple[object, object]] = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[object, object]:
        with self._lock:
            if self._loaded is None:
                try:
                    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
                except ImportError:
                    raise SettingsError("[translation] model", "needs the transformers package "
                                        "(pip install transformers torch)") from None
                tokenizer = AutoTokenizer.from_pretrained(self.folder, local_files_only=True)
                model = AutoModelForSeq2SeqLM.from_pretrained(self.folder, local_files_only=True)
                model.eval()
                self._loaded = (tokenizer, model)
        return self._loaded

    def translate(self, text: str, source_language: Optional[str] = None) -> Translation:
        import torch
        tokenizer, model = self._load()
        inputs = tokenizer([text[:MAX_INPUT_CHARS]], return_tensors="pt", truncation=True)
        inputs.pop("token_type_ids", None)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, num_beams=1, do_sample=False)
        result = tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip()
        return Translation(result, source_language, self.target_language, self.folder.name)


def build_translator(settings) -> Optional[LocalTranslator]:
    """The configured translator, or None when `[translation] model` is empty (the default)."""
    section = settings.translation
    if not section.model:
        return None
    return LocalTranslator(section.model, section.target_language, section.max_new_tokens)
