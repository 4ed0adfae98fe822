"""[analysis] settings."""
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class AnalysisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # embedded: shipped heads on the USE encoder (offline, CPU); transformers: a Hugging Face
    # classifier (`model`); keywords: risk lexicon, star ratings and a word list only (cheapest).
    backend: Literal["embedded", "transformers", "keywords"] = "embedded"
    # transformers: a Hugging Face id already in the local cache, or a local folder. Never
    # downloaded at run time. Default: cardiffnlp/twitter-xlm-roberta-base-sentiment-multilingual
    model: Optional[str] = None
    flag_threshold: float = Field(default=0.5, ge=0.0, le=1.0)      # severity at which a post is flagged
    critical_threshold: float = Field(default=0.8, ge=0.0, le=1.0)  # severity that sends an alert
    batch_size: int = Field(default=64, ge=1, le=4096)
    # Languages the detector may answer (ISO 639-1); restricting it makes short posts reliable.
    languages: list[str] = Field(default=["pl", "ru", "en", "uk", "de"], min_length=1)
    heads_path: Optional[str] = None     # embedded: heads from `monitor model train --out DIR` (a .npz or its folder)
    lexicon_path: Optional[str] = None   # a risk_signals.toml to use instead of the shipped one
    device: Optional[str] = None         # transformers: "cpu", "cuda", "cuda:0" (default: cpu)
