"""A worker that claims one analysis batch and then hangs in the model call, in a process of
its own, so that a test can kill it with SIGKILL while it holds the batch.

    MONITOR_DATABASE_URL=... python -m tests.daemon.analysis_worker SETTINGS

Prints "claimed TEXT|TEXT|..." once the batch is claimed, then blocks until killed.
"""
from __future__ import annotations

import sys
import threading

from monitor.service import Monitor
from monitor.settings import load_settings
from tests.daemon.support import BACKENDS


class HangingAnalyser:
    version = "hangs"

    def assess(self, posts):
        print("claimed " + "|".join(post.text for post in posts), flush=True)
        threading.Event().wait()          # until SIGKILL
        raise AssertionError("unreachable")


def main() -> int:
    monitor = Monitor(load_settings(sys.argv[1]), **{**BACKENDS, "analyser": HangingAnalyser()})
    monitor.process()
    return 1


if __name__ == "__main__":
    sys.exit(main())
