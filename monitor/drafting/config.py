"""[drafting] and [shop] settings: the brand voice and the shop's knowledge base.

Drafts answer with facts, never with "see our website": every fact a reply may state (delivery
times, the return window, when money comes back, opening hours, payment methods) lives here,
in `settings.toml`, so the shop edits it in one place and the safety check knows which numbers
and gestures the policy allows.
"""
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Gesture = Literal["discount", "free_shipping", "gift"]
PaymentMethod = Literal["card", "blik", "transfer", "paypal", "cash_on_delivery", "apple_pay", "google_pay", "installments"]
Weekdays = Literal["mon-fri", "mon-sat", "mon-sun"]

_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class DraftingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["phrasebook", "transformers", "placeholder"] = "phrasebook"
    model: Optional[str] = None            # transformers: a local instruction-tuned model id or path
    address: Literal["formal", "informal"] = "formal"
    signature: str = Field(default="", max_length=80)   # e.g. "Ania, Demo Shop"; appended as "– Ania, Demo Shop"
    emoji: bool = False                    # one friendly emoji in thanks/answers; never in complaints
    phrases_dir: Optional[str] = None      # the shop's own <lang>.toml phrasings, merged over the shipped ones
    max_new_tokens: int = Field(default=220, ge=16, le=1024)   # transformers backend
    device: str = "cpu"                    # transformers backend: "cpu", "cuda", ...

    @model_validator(mode="after")
    def _model_for_transformers(self) -> "DraftingSettings":
        if self.backend == "transformers" and not self.model:
            raise ValueError("backend 'transformers' needs [drafting] model = a local model id or path")
        return self


class DeliveryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days_min: int = Field(default=1, ge=0, le=60)          # business days from order to delivery
    days_max: int = Field(default=3, ge=0, le=60)
    dispatch_hours: int = Field(default=24, ge=1, le=240)   # order placed -> parcel handed over

    @model_validator(mode="after")
    def _ordered(self) -> "DeliveryPolicy":
        if self.days_min > self.days_max:
            raise ValueError("days_min must not be larger than days_max")
        return self


class ReturnPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=30, ge=14, le=365)            # return window from delivery (EU minimum 14)
    refund_days: int = Field(default=14, ge=1, le=14)       # money back after the return arrives (EU max 14)
    free: bool = True                                       # free return shipping
    complaint_days: int = Field(default=14, ge=1, le=14)    # a complaint (reklamacja) is decided within


class MoneyBack(BaseModel):
    """When money comes back outside a return (the drafts for cancellations and wrong charges state it)."""

    model_config = ConfigDict(extra="forbid")
    cancelled_days: int = Field(default=5, ge=1, le=14)     # a cancelled order's payment is back within
    wrong_charge_days: int = Field(default=5, ge=1, le=14)  # a double or too-high charge, once confirmed


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: Weekdays = "mon-fri"
    open: str = Field(default="09:00", pattern=_TIME)
    close: str = Field(default="17:00", pattern=_TIME)


class GoodwillPolicy(BaseModel):
    """Which small gestures a draft may suggest, and on which topics; the approver decides."""

    model_config = ConfigDict(extra="forbid")
    allowed: list[Gesture] = Field(default_factory=lambda: ["discount", "free_shipping"])
    max_discount_percent: int = Field(default=10, ge=0, le=50)
    topics: list[str] = Field(default_factory=lambda: ["delivery_late", "parcel_damaged", "wrong_item"])
    min_severity: float = Field(default=0.0, ge=0.0, le=1.0)   # offer only for posts at least this severe


class ShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "Demo Shop"
    allowed_domains: list[str] = Field(default_factory=lambda: ["demo-shop.example"])
    legal_contact: str = "legal@demo-shop.example"
    delivery: DeliveryPolicy = DeliveryPolicy()
    returns: ReturnPolicy = ReturnPolicy()
    hours: BusinessHours = BusinessHours()
    money_back: MoneyBack = MoneyBack()
    payment_methods: list[PaymentMethod] = Field(
        default_factory=lambda: ["card", "blik", "transfer", "cash_on_delivery"])
    answer_within_hours: int = Field(default=24, ge=1, le=72)  # the longest a holding reply may promise
    handles: list[str] = Field(default_factory=list)      # the shop's own accounts: their posts never enter the queue
    names: list[str] = Field(default_factory=list)        # other names the shop is mentioned by (besides `name`)
    competitors: list[str] = Field(default_factory=list)  # names/handles: a post about them alone is monitored, not answered
    goodwill: GoodwillPolicy = GoodwillPolicy()

    @field_validator("allowed_domains")
    @classmethod
    def _bare_domains(cls, domains: list[str]) -> list[str]:
        clean = []
        for domain in domains:
            value = domain.strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
            if not value or "/" in value or " " in value or "." not in value:
                raise ValueError(f"{domain!r} is not a bare domain such as 'shop.example'")
            clean.append(value.removeprefix("www."))
        return clean
