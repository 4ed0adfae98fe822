"""[analysis] settings."""
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class AnalysisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["embedded", "transformers", "keywords"] = "embedded"
    model: Optional[str] = None            # transformers: a Hugging Face id or a local path
    flag_threshold: float = Field(default=0.5, ge=0.0, le=1.0)      # severity at which a post is flagged
    critical_threshold: float = Field(default=0.8, ge=0.0, le=1.0)  # severity that sends an alert
    batch_size: int = Field(default=64, ge=1, le=4096)
