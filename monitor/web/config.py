"""[web] settings."""
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


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
