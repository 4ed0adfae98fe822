"""[drafting] and [shop] settings: the brand voice and the shop's knowledge base."""
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class DraftingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["phrasebook", "transformers", "placeholder"] = "phrasebook"
    model: Optional[str] = None            # transformers: a local instruction-tuned model id or path
    address: Literal["formal", "informal"] = "formal"
    signature: str = ""
    emoji: bool = False


class ShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "Demo Shop"
    allowed_domains: list[str] = Field(default_factory=lambda: ["demo-shop.example"])
    legal_contact: str = "legal@demo-shop.example"
