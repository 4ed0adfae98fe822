"""How many platform requests each connector spends, measured against the local fakes with
real-sized pages (100 items): a first poll over a back-fill, a poll with nothing new (the steady
state that decides the quota), a poll with a few new items, a reply and a reconciliation.

    .venv/bin/python -m bench.channel_requests [--platforms allegro,vk,youtube,trustpilot] [--backlog 250]

Token renewals are counted apart (they come at most every hour to every 100 hours in production).
Prints one line per platform; "per day" is the steady-state poll times 288 (the default 300 s).
"""
from __future__ import annotations

import argparse
import json
import logging

from connectors import registry
from monitor.fakes import FakePlatforms
from monitor.fakes.demo import demo_secret_env, demo_sources
from monitor.fakes.server import TOKEN_PATHS
from monitor.settings import SecretStore, Settings
from tests.connectors.conftest import KIND, Collector, target_of

POLLS_A_DAY = 24 * 3600 // 300


def measure(fake: FakePlatforms, platform: str, backlog: int) -> dict[str, int]:
    source = next(s for s in demo_sources(fake.base_url, fake.brand) if s["platform"] == platform)
    options = {k: v for k, v in source.items() if k not in ("name", "platform")}
    options["page_size"] = 100
    connector = registry()[platform].from_settings(source["name"], options,
                                                   SecretStore(Settings(), environ=demo_secret_env([source])))

    def spent(action) -> tuple[int, int]:
        before = fake.requests(platform)
        result = action()
        new = fake.requests(platform)[len(before):]
        tokens = sum(1 for r in new if r.path in TOKEN_PATHS)
        spent.last = result
        return len(new) - tokens, tokens

    def add(count: int, start: float) -> list[str]:
        return [fake.add_post(platform, f"DemoShop item {n}", kind=KIND[platform], author=f"c{n}",
                              minutes_ago=start - n * 2, rating=n % 5 + 1) for n in range(count)]

    add(backlog, 2 * backlog + 10)         # two minutes apart, the newest ten minutes ago
    collector = Collector(connector)
    first, tokens = spent(collector.run)
    idle, _ = spent(collector.run)
    add(5, 9)
    fresh, _ = spent(collector.run)
    item = next(iter(collector.items.values()))
    reply, _ = spent(lambda: connector.reply(target_of(item), "Dziękujemy, sprawdzamy to."))
    reconcile, _ = spent(lambda: connector.find_reply(target_of(item), "Dziękujemy, sprawdzamy to."))
    connector.close()
    return {"first_poll": first, "idle_poll": idle, "poll_5_new": fresh, "reply": reply, "reconcile": reconcile,
            "token_renewals": tokens, "per_day_idle": idle * POLLS_A_DAY, "stored": len(collector.items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platforms", default="allegro,vk,youtube,trustpilot")
    parser.add_argument("--backlog", type=int, default=250)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    results = {}
    for platform in args.platforms.split(","):
        with FakePlatforms.start(page_size=100) as fake:
            results[platform] = measure(fake, platform, args.backlog)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for platform, figures in results.items():
        print(f"{platform:11} " + "  ".join(f"{key} {value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
