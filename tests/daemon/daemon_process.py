"""A daemon in a process of its own, for the SIGKILL and SIGTERM tests: the real scheduling loop,
signal handling and connectors, with the deterministic test analyser (no model to load).

    python -m tests.daemon.daemon_process SETTINGS [--worker NAME] [--max-seconds S] [--once]

Prints "ready" once the database is set up, and the run's report as JSON at the end.
"""
from __future__ import annotations

import argparse
import json
import sys

from monitor.daemon.runner import Daemon
from monitor.service import Monitor
from monitor.settings import load_settings
from tests.daemon.support import BACKENDS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("settings")
    parser.add_argument("--worker", default=None)
    parser.add_argument("--max-seconds", type=float, default=None)
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args()
    monitor = Monitor(load_settings(args.settings), **BACKENDS)
    try:
        monitor.init()
        daemon = Daemon(monitor, worker_name=args.worker)
        print("ready", flush=True)
        report = daemon.run(once=args.once, max_seconds=args.max_seconds)
        print(json.dumps(vars(report)), flush=True)
    finally:
        monitor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
