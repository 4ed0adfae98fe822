"""[daemon], [alerts] and [sla] settings."""
from __future__ import annotations

import re
from typing import Optional
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


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


PLACEHOLDER = re.compile(r"\$\{([a-z0-9_]+)\}")
# The keys before apprise, and what to write instead (a clear error beats a silent change of channels).
_REPLACED_KEYS = {
    "slack_webhook": 'urls = ["${webhook_url}"] keeps MONITOR_SECRET_ALERTS_WEBHOOK_URL (apprise understands '
                     'Slack, Mattermost, Discord and Teams webhook URLs as they are)',
    "email_to": 'urls = ["mailto://SMTP_HOST:PORT?from=FROM&to=ADDRESS"] (mailtos:// for TLS; with a login: '
                'mailto://USER:${smtp_password}@SMTP_HOST:PORT?..., keeping MONITOR_SECRET_ALERTS_SMTP_PASSWORD)',
}
_REPLACED_KEYS.update({key: _REPLACED_KEYS["email_to"] for key in
                       ("email_from", "smtp_host", "smtp_port", "smtp_security", "smtp_username")})


class AlertSettings(BaseModel):
    """Where alerts (critical posts) and reminders (overdue posts) go. Off without `urls`."""

    model_config = ConfigDict(extra="forbid")
    # apprise URLs, one channel each; secrets as ${name} placeholders (MONITOR_SECRET_ALERTS_<NAME>).
    urls: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    pause_seconds: float = Field(default=1.0, ge=0, le=60)   # at most this long between two messages on one channel
    review_url: Optional[str] = None       # e.g. "https://monitor.example.com/posts/{id}" (else the CLI command)
    remind_overdue: bool = True
    reminder_every_seconds: int = Field(default=300, ge=1, le=86400)   # at most one overdue digest per this time
    retry_seconds: int = Field(default=60, ge=1, le=86400)   # wait after a failed delivery before trying that channel again
    max_age_hours: float = Field(default=48, gt=0)           # older posts (a first poll's history) raise no alert
    max_per_pass: int = Field(default=20, ge=1, le=1000)     # alerts sent per pass at most (the rest follow)
    expiry_warning_days: int = Field(default=7, ge=0, le=90)  # alert this many days before a known token expiry

    @model_validator(mode="before")
    @classmethod
    def _replaced(cls, data):
        if isinstance(data, dict):
            for key in data:
                if key in _REPLACED_KEYS:
                    raise ValueError(f"{key} was replaced by apprise URLs: write {_REPLACED_KEYS[key]}")
        return data

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for number, url in enumerate(value, start=1):
            if PLACEHOLDER.fullmatch(url):
                continue
            if "://" not in url:
                raise ValueError(f"entry #{number} is not an apprise URL (scheme://...)")
            try:
                password = urlsplit(url).password
            except ValueError:
                password = None
            if password and not PLACEHOLDER.fullmatch(unquote(password)):
                raise ValueError(f"entry #{number} writes a password; use a placeholder such as "
                                 "${smtp_password} and set MONITOR_SECRET_ALERTS_SMTP_PASSWORD")
        return value

    @field_validator("review_url")
    @classmethod
    def _review_url(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and "{id}" not in value:
            raise ValueError("must contain {id}, where the post's id goes")
        return value


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
