"""[web] settings."""
import ipaddress
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"                # `monitor serve` listens here (0.0.0.0 only behind a proxy)
    port: int = Field(default=8000, ge=1, le=65535)
    lock_minutes: int = Field(default=10, ge=1, le=240)  # assigning or editing a post holds it this long
    secure_cookies: bool = False           # true behind HTTPS: the session cookie gets the Secure flag
    session_hours: int = Field(default=12, ge=1, le=24 * 30)  # sign in again this long after signing in
    # Where the session signing key is kept when MONITOR_SECRET_WEB_SECRET_KEY is not set
    # (default: beside the SQLite database, or beside settings.toml / the working folder).
    session_key_file: Optional[str] = None
    dashboard_days: int = Field(default=14, ge=1, le=90)  # how many days the dashboard charts
    # Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto are believed; empty:
    # forwarded headers are ignored and the peer's address is the client's.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (e.g. '127.0.0.1' or '10.0.0.0/24'); "
                                 "name the proxies, never '*'") from None
        return [entry.strip() for entry in value]

    def server_options(self) -> dict[str, Any]:
        """uvicorn's forwarded-header options: honoured only from the configured proxies."""
        if not self.trusted_proxies:
            return {"proxy_headers": False}
        return {"proxy_headers": True, "forwarded_allow_ips": ",".join(self.trusted_proxies)}
