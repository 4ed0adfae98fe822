"""[daemon], [alerts] and [sla] settings."""
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class DaemonSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jitter_seconds: int = Field(default=15, ge=0, le=3600)
    backoff_cap_seconds: int = Field(default=3600, ge=10)
    lease_seconds: int = Field(default=120, ge=10)
    post_interval_seconds: int = Field(default=30, ge=1)


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slack_webhook: bool = False            # the URL itself is a secret: MONITOR_SECRET_ALERTS_WEBHOOK_URL
    email_to: list[str] = Field(default_factory=list)
    smtp_host: Optional[str] = None
    smtp_port: int = 25


class SlaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_answer_minutes: int = Field(default=60, ge=1)
    business_day_start: str = "08:00"
    business_day_end: str = "18:00"
