"""What `monitor demo` needs to run the real connectors against the fake platforms: the demo
posts (package data), the `[[sources]]` entries pointing at the fake, and fake credentials as
`MONITOR_SECRET_...` variables."""
from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union

from monitor.fakes.state import PLATFORMS, Brand
from monitor.settings import secret_env_name

DEMO_POSTS = Path(__file__).resolve().parent.parent / "data" / "demo_posts.toml"
SECRET_KEYS = {
    "x": ("consumer_key", "consumer_secret", "access_token", "access_token_secret", "bearer_token"),
    "facebook": ("access_token",),
    "instagram": ("access_token",),
    "reddit": ("client_id", "client_secret", "refresh_token"),
    "google_reviews": ("client_id", "client_secret", "refresh_token"),
    "allegro": ("client_id", "client_secret", "refresh_token"),
    "vk": ("access_token",),
    "youtube": ("client_id", "client_secret", "refresh_token"),
    "trustpilot": ("api_key", "api_secret", "refresh_token"),
}


def load_demo_posts(path: Optional[Union[str, Path]] = None) -> list[dict[str, Any]]:
    """The `[[posts]]` of a demo posts file (the packaged one by default)."""
    with open(path or DEMO_POSTS, "rb") as handle:
        data = tomllib.load(handle)
    posts = data.get("posts", [])
    if not isinstance(posts, list):
        raise ValueError(f"{path or DEMO_POSTS}: [[posts]] must be an array of tables")
    return posts


GENERATED = (
    ("x", "mention", "@DemoShop order {n}: where is my parcel? Ten days already."),
    ("facebook", "comment", "Demo Shop, order {n} came damaged. What now?"),
    ("instagram", "comment", "Is the jacket from post {n} back in stock, Demo Shop?"),
    ("reddit", "comment", "Anyone else waiting on DemoShop order {n}? No answer to my e-mails."),
    ("google_reviews", "review", "Order {n}: fast delivery, but the size was wrong."),
)


def generated_posts(count: int) -> list[dict[str, Any]]:
    """`count` posts naming the brand, round-robin over the platforms, a minute apart (the
    newest last): the same count gives the same posts."""
    posts = []
    for n in range(count):
        platform, kind, text = GENERATED[n % len(GENERATED)]
        posts.append({"id": f"gen-{n + 1}", "platform": platform, "kind": kind, "author": f"customer{n + 1}",
                      "text": text.format(n=n + 1), "minutes_ago": count - n, "rating": n % 5 + 1})
    return posts


def seed_posts(fake: Any, posts: Iterable[Mapping[str, Any]], now: Optional[datetime] = None) -> dict[str, tuple[str, str]]:
    """Put each demo post on its fake platform; returns demo id -> (platform, external id).

    `now` anchors `minutes_ago`: the same anchor gives the same ids (X's ids are time-based), so
    a demo reseeded by every command does not look like new posts."""
    seeded = {}
    for number, post in enumerate(posts):
        platform = str(post.get("platform", ""))
        if platform not in PLATFORMS:
            raise ValueError(f"demo post {post.get('id', number)}: unknown platform {platform!r}")
        demo_id = str(post.get("id") or f"post-{number + 1}")
        external_id = fake.add_post(
            platform, str(post.get("text", "")), kind=post.get("kind"), author=str(post.get("author") or "customer"),
            created_at=(now - timedelta(minutes=float(post.get("minutes_ago", 0)))) if now else None,
            minutes_ago=float(post.get("minutes_ago", 0)), reach=int(post.get("reach", 0)),
            likes=int(post.get("likes", 0)), shares=int(post.get("shares", 0)), replies=int(post.get("replies", 0)),
            rating=post.get("rating"), demo_id=demo_id)
        seeded[demo_id] = (platform, external_id)
    return seeded


def demo_sources(base_url: str, brand: Brand = Brand()) -> list[dict[str, Any]]:
    """One `[[sources]]` entry per platform, pointing at the fake at `base_url`."""
    return [
        {"name": "demo-x", "platform": "x", "account_id": brand.x_user_id,
         "query": '"Demo Shop" -is:retweet', "base_url": base_url},
        {"name": "demo-facebook", "platform": "facebook", "page_id": brand.facebook_page_id, "base_url": base_url},
        {"name": "demo-instagram", "platform": "instagram", "account_id": brand.instagram_user_id,
         "base_url": base_url},
        {"name": "demo-reddit", "platform": "reddit", "username": brand.reddit_username,
         "subreddits": [brand.subreddit], "terms": ["DemoShop", "Demo Shop"], "base_url": base_url},
        {"name": "demo-google", "platform": "google_reviews", "account_id": brand.google_account_id,
         "location_id": brand.google_location_id, "base_url": base_url, "token_uri": f"{base_url}/token"},
        # Allegro's list has no total: a short page is the last, so ask for no more than the fake pages by.
        {"name": "demo-allegro", "platform": "allegro", "base_url": base_url,
         "token_uri": f"{base_url}/auth/oauth/token", "page_size": 2},
        {"name": "demo-vk", "platform": "vk", "group_id": brand.vk_group_id, "base_url": base_url,
         "requests_per_second": 20},
        {"name": "demo-youtube", "platform": "youtube", "channel_id": brand.youtube_channel_id, "base_url": base_url,
         "token_uri": f"{base_url}/youtube/oauth2/token"},
        {"name": "demo-trustpilot", "platform": "trustpilot", "business_unit_id": brand.trustpilot_business_unit_id,
         "business_user_id": brand.trustpilot_business_user_id, "base_url": base_url},
    ]


def demo_secret_env(sources: Optional[Iterable[Mapping[str, Any]]] = None) -> dict[str, str]:
    """Fake credentials for the demo sources, as the environment variables the connectors read."""
    env = {}
    for source in sources if sources is not None else demo_sources("http://127.0.0.1:1"):
        for key in SECRET_KEYS[str(source["platform"])]:
            env[secret_env_name(str(source["name"]), key)] = f"demo-{source['name']}-{key}-not-a-real-secret"
    return env
