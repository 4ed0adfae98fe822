"""Settings for a daemon whose sources are the local fake platforms (real connectors)."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from monitor.fakes.demo import demo_secret_env, demo_sources

KIND = {"x": "mention", "facebook": "comment", "instagram": "comment", "reddit": "comment",
        "google_reviews": "review"}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))            # a JSON string is a valid TOML basic string


def fake_sources_toml(fake: Any, platforms: Iterable[str] | None = None, **common: Any) -> tuple[str, dict[str, str]]:
    """[[sources]] for the fake's demo accounts, and the fake credentials as environment variables."""
    chosen = [s for s in demo_sources(fake.base_url, fake.brand) if platforms is None or s["platform"] in platforms]
    text = ""
    for source in chosen:
        text += "\n[[sources]]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in {**source, **common}.items())
    return text, demo_secret_env(chosen)


def add_posts(fake: Any, platform: str, count: int, tag: str, text: str = "where is my parcel?",
              **fields: Mapping[str, Any]) -> list[str]:
    """`count` new posts naming the brand on `platform`; returns their ids."""
    return [fake.add_post(platform, f"@DemoShop Demo Shop {tag} {n}: {text}", kind=KIND[platform],
                          author=f"{tag}{n}", minutes_ago=1, rating=(n % 5) + 1) for n in range(count)]
