"""[daemon], [alerts] and [sla] settings."""
from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class DaemonSettings(BaseModel):
    """How `monitor daemon` schedules its work."""

    model_config = ConfigDict(extra="forbid")
    jitter_seconds: int = Field(default=15, ge=0, le=3600)         # random delay added to each source's interval
    backoff_base_seconds: int = Field(default=30, ge=1, le=3600)   # first retry after an error; doubles each time
    backoff_cap_seconds: int = Field(default=3600, ge=10)          # never wait longer than this after errors
    lease_seconds: int = Field(default=120, ge=5, le=3600)         # a dead worker's sources are free after this
    post_interval_seconds: int = Field(default=30, ge=1)           # how often approved replies are sent
    sources_per_pass: int = Field(default=20, ge=1, le=10_000)     # sources one worker polls side by side at most
    idle_seconds: float = Field(default=5.0, gt=0, le=300)         # longest sleep between two passes
    metrics_port: int = Field(default=0, ge=0, le=65535)           # Prometheus endpoint; 0 = off
    metrics_host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _cap_above_base(self) -> "DaemonSettings":
        if self.backoff_cap_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_cap_seconds must not be smaller than backoff_base_seconds")
        return self


class AlertSettings(BaseModel):
    """Where alerts (critical posts) and reminders (overdue posts) go. Off when neither is set."""

    model_config = ConfigDict(extra="forbid")
    slack_webhook: bool = False            # the URL itself is a secret: MONITOR_SECRET_ALERTS_WEBHOOK_URL
    email_to: list[str] = Field(default_factory=list)
    email_from: str = "reply-monitor@localhost"
    smtp_host: Optional[str] = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"   # tls: implicit TLS (port 465)
    smtp_username: Optional[str] = None    # password: MONITOR_SECRET_ALERTS_SMTP_PASSWORD
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    review_url: Optional[str] = None       # e.g. "https://monitor.example.com/posts/{id}" (else the CLI command)
    remind_overdue: bool = True
    reminder_every_seconds: int = Field(default=300, ge=1, le=86400)   # at most one overdue digest per this time
    retry_seconds: int = Field(default=60, ge=1, le=86400)   # wait after a failed delivery before trying that channel again
    max_age_hours: float = Field(default=48, gt=0)           # older posts (a first poll's history) raise no alert
    max_per_pass: int = Field(default=20, ge=1, le=1000)     # alerts sent per pass at most (the rest follow)

    @field_validator("email_to", "email_from")
    @classmethod
    def _addresses(cls, value):
        for address in [value] if isinstance(value, str) else value:
            if not _EMAIL.match(address):
                raise ValueError(f"{address!r} is not an e-mail address")
        return value

    @field_validator("review_url")
    @classmethod
    def _review_url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and "{id}" not in value:
            raise ValueError("must contain {id}, where the post's id goes")
        return value

    @model_validator(mode="after")
    def _smtp_for_email(self) -> "AlertSettings":
        if self.email_to and not self.smtp_host:
            raise ValueError("email_to needs smtp_host")
        return self


class SlaSettings(BaseModel):
    """Answer-time targets (guidelines 1-2), in the shop's time zone ([app] timezone)."""

    model_config = ConfigDict(extra="forbid")
    first_answer_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    business_day_start: str = "08:00"
    business_day_end: str = "18:00"
    business_days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))  # days the shop answers; e.g. ["mon", "tue", "wed", "thu", "fri"]

    @field_validator("business_day_start", "business_day_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"must be a time as HH:MM, 24-hour (got {value!r})")
        return value

    @field_validator("business_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [day.strip().lower()[:3] for day in value]
        unknown = [day for day in days if day not in WEEKDAYS]
        if unknown or not days:
            raise ValueError(f"must be a non-empty list of {', '.join(WEEKDAYS)}")
        return sorted(set(days), key=WEEKDAYS.index)

    @model_validator(mode="after")
    def _start_before_end(self) -> "SlaSettings":
        if self.business_day_start >= self.business_day_end:
            raise ValueError("business_day_start must be earlier than business_day_end")
        return self
