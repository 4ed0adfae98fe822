"""How long a reply each platform accepts (characters; X counts weighted characters). Apart
from the connector modules, which take their `max_reply_length` from here, so that checking a
text before approval (`monitor approve`, the editor's live check) does not load the platform's
client library just to read one number."""
from __future__ import annotations

from typing import Optional

REPLY_LIMITS: dict[str, int] = {
    "allegro": 1000,
    "facebook": 8000,
    "google_reviews": 4096,
    "instagram": 2200,
    "reddit": 10000,
    "trustpilot": 2048,
    "vk": 4096,
    "x": 280,
    "youtube": 10000,
}


def reply_limit(platform: str) -> Optional[int]:
    """The platform's limit; a platform missing here is asked its connector class (None when
    there is none)."""
    if platform in REPLY_LIMITS:
        return REPLY_LIMITS[platform]
    from connectors import connector_class
    cls = connector_class(platform)
    return cls.max_reply_length if cls else None
