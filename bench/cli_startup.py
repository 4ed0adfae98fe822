"""How long an approver waits for the commands they run in a loop: `monitor --help`, `queue`,
`show`, `approve`, each a fresh process as from a shell (the target is under 0.5 s each).

    .venv/bin/python -m bench.cli_startup [--runs 10] [--json]

Sets up a SQLite database in a temporary folder with posts collected from the local fake
platforms (keyword analysis, no model), then times each command `--runs` times and prints the
median and 95th percentile of the wall time and of the CPU time (user + system) per command,
and the same for `import monitor.cli` alone. Run it on an idle machine: wall times under load
say more about the load (the CPU times much less so).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.5
ENTRY = "from monitor.cli import main; main()"      # what the `monitor` console script runs


def prepare(folder: Path, posts: int) -> tuple[Path, list[int]]:
    """A settings file and a database holding `posts` collected posts; returns the post ids."""
    from sqlmodel import select

    from models import Post
    from monitor.fakes import FakePlatforms
    from monitor.fakes.demo import demo_secret_env, demo_sources, generated_posts
    from monitor.service import Monitor
    from monitor.settings import load_settings

    settings = folder / "settings.toml"
    settings.write_text(f'[app]\nuser = "anna"\ndatabase_url = "sqlite:///{folder / "bench.db"}"\n'
                        '[analysis]\nbackend = "keywords"\n', encoding="utf-8")
    with FakePlatforms.start(generated_posts(posts), page_size=50) as fake:
        sources = demo_sources(fake.base_url)
        collect = folder / "collect.toml"
        collect.write_text(settings.read_text(encoding="utf-8") + "".join(
            "\n[[sources]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in s.items()) for s in sources),
            encoding="utf-8")
        env = demo_secret_env(sources)
        monitor = Monitor(load_settings(collect, environ=env), environ=env)
        try:
            monitor.init()
            monitor.poll()
            monitor.process()
            with monitor.db.session() as session:
                ids = sorted(session.exec(select(Post.id)).all())
        finally:
            monitor.close()
    return settings, ids


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system: what the machine's load does not inflate as
    much) and the exit code of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.returncode


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(wall: list[float], cpu: list[float]) -> dict[str, float]:
    (median, p95), (cpu_median, cpu_p95) = percentiles(wall), percentiles(cpu)
    return {"median_s": round(median, 3), "p95_s": round(p95, 3), "cpu_median_s": round(cpu_median, 3),
            "cpu_p95_s": round(cpu_p95, 3), "runs": len(wall)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MONITOR_SETTINGS": os.devnull}
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings, ids = prepare(Path(tmp), posts=options.runs + 5)
        show_id = str(ids[0])
        commands = {
            "import monitor.cli": None,
            "monitor --help": ["--help"],
            "monitor queue": ["--settings", str(settings), "queue"],
            "monitor show ID": ["--settings", str(settings), "show", show_id],
            "monitor approve ID --text T": None,     # a new post each run
        }
        for label, args in commands.items():
            wall, cpu = [], []
            for run in range(options.runs):
                if label == "import monitor.cli":
                    command = [sys.executable, "-c", "import monitor.cli"]
                elif args is None:
                    command = [sys.executable, "-c", ENTRY, "--settings", str(settings), "approve", str(ids[1 + run]),
                               "--text", "Thank you for writing, we are checking your order now."]
                else:
                    command = [sys.executable, "-c", ENTRY, *args]
                elapsed, used, code = timed(command, env)
                if code != 0:
                    print(f"{label}: exit code {code}", file=sys.stderr)
                    return 1
                wall.append(elapsed)
                cpu.append(used)
            results[label] = summary(wall, cpu)
    if options.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"CLI start-up, {options.runs} runs each (target: under {TARGET_SECONDS} s)")
    for label, figures in results.items():
        print(f"  {label:<30} wall median {figures['median_s']:.3f} s  p95 {figures['p95_s']:.3f} s   "
              f"cpu median {figures['cpu_median_s']:.3f} s  p95 {figures['cpu_p95_s']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
