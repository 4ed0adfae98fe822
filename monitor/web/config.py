"""[web] settings."""
from pydantic import BaseModel, ConfigDict, Field


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    lock_minutes: int = Field(default=10, ge=1)
    secure_cookies: bool = False           # true behind HTTPS
