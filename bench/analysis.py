"""Throughput of the whole analysis stage (clean, language, encoder, heads, lexicon, severity).

    python bench/analysis.py [--json] [--data DIR] [--backend embedded|keywords] [--tweets N] [--reviews N]
                             [--heads PATH]

Inputs: tweet-length posts made from the demo posts (each made unique so nothing is cached),
and long reviews: Polish/Russian reviews from DIR (any *.csv[.gz] with a `text` column, texts of
600+ characters) or, without --data, demo posts glued into 800-character reviews.
Target on the 2-core dev machine: >= 500 tweet-length posts/s with the embedded backend.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import resource
import sys
import time
import tomllib
from importlib import resources
from pathlib import Path

from monitor.analysis import PostView, build_analyser
from monitor.settings import Settings


def demo_texts() -> list[str]:
    path = resources.files("monitor").joinpath("data/demo_posts.toml")
    if path.is_file():
        return [post["text"] for post in tomllib.loads(path.read_text("utf-8"))["posts"]]
    return ["@DemoShop my order is 10 days late and nobody answers. Not happy.",
            "Paczka przyszła uszkodzona, proszę o kontakt.", "Спасибо, всё пришло быстро!"]


def tweets(n: int) -> list[PostView]:
    base = [text[:280] for text in demo_texts()]
    return [PostView(text=f"{base[i % len(base)]} #{i}", author_reach=i % 5000, likes=i % 50) for i in range(n)]


def reviews(n: int, data: Path | None) -> list[PostView]:
    texts: list[str] = []
    if data is not None:
        for path in sorted(data.glob("*.csv*")):
            if not any(key in path.name for key in ("reviews", "review")):
                continue
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8", newline="") as handle:
                texts += [row["text"] for row in csv.DictReader(handle) if len(row.get("text", "")) >= 600]
            if len(texts) >= n * 4:
                break
    if not texts:
        joined = " ".join(demo_texts())
        texts = [joined[i:i + 800] for i in range(0, max(1, len(joined) - 800), 97)]
    step = max(1, len(texts) // n)
    chosen = (texts[::step] * (n // max(1, len(texts[::step])) + 1))[:n]
    return [PostView(text=text, kind="review", rating=1 + i % 5) for i, text in enumerate(chosen)]


def measure(analyser, posts: list[PostView], batch: int) -> dict:
    started = time.perf_counter()
    flagged = 0
    for start in range(0, len(posts), batch):
        flagged += sum(result.flagged for result in analyser.assess(posts[start:start + batch]))
    seconds = time.perf_counter() - started
    chars = sum(len(post.text) for post in posts) / len(posts)
    return {"posts": len(posts), "mean_chars": round(chars), "seconds": round(seconds, 2),
            "posts_per_s": round(len(posts) / seconds, 1), "flagged": flagged}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--data", type=Path, help="folder with review CSVs (e.g. ../shared/data)")
    parser.add_argument("--backend", default="embedded", choices=["embedded", "keywords", "transformers"])
    parser.add_argument("--tweets", type=int, default=3000)
    parser.add_argument("--reviews", type=int, default=300)
    parser.add_argument("--heads", help="embedded: a heads.npz from `monitor model train --out` instead of the shipped one")
    parser.add_argument("--batch", type=int, default=256, help="posts per assess() call (the pipeline's batch)")
    args = parser.parse_args(argv)
    if args.data is not None and not args.data.is_dir():
        print(f"Error: --data {args.data}: not a folder", file=sys.stderr)
        return 2

    started = time.perf_counter()
    analysis = {"backend": args.backend, **({"heads_path": args.heads} if args.heads else {})}
    analyser = build_analyser(Settings(analysis=analysis))
    analyser.assess([PostView(text="warm-up: load the encoder and the heads")])
    load_seconds = time.perf_counter() - started
    result = {
        "backend": args.backend, "model_version": analyser.version, "load_seconds": round(load_seconds, 2),
        "tweets": measure(analyser, tweets(args.tweets), args.batch),
        "long_reviews": measure(analyser, reviews(args.reviews, args.data), args.batch),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"backend {result['backend']} ({result['model_version']}), loaded in {result['load_seconds']}s")
        for name in ("tweets", "long_reviews"):
            figures = result[name]
            print(f"{name:>13}: {figures['posts_per_s']:>8} posts/s  ({figures['posts']} posts, "
                  f"~{figures['mean_chars']} chars, {figures['seconds']}s, {figures['flagged']} flagged)")
        print(f"  peak memory: {result['peak_rss_mib']} MiB (max RSS of this process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
