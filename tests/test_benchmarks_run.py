"""The benchmarks are commands people run to check speed targets; they must keep working as the
code changes (their figures are not asserted here: speed lives in bench/, not in tests)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_analysis_benchmark_runs():
    output = run("bench/analysis.py", "--tweets", "40", "--reviews", "4", "--json")
    assert "tweets" in output and "long_reviews" in output


def test_daemon_benchmark_runs(postgres_url):   # the fixture skips (or fails in CI) without PostgreSQL
    from tests.conftest import POSTGRES_URL     # the benchmark makes a schema of its own there
    output = run("-m", "bench.daemon_throughput", "--sources", "2", "--items", "6", "--postgres", POSTGRES_URL,
                 "--workers", "1,2", "--posts", "40", "--test-backends")
    assert "sqlite: collected+analysed" in output and "postgresql: posted" in output
    assert "postgresql, 1 worker(s)" in output and "postgresql, 2 worker(s)" in output and "w1 " in output


def test_cli_startup_benchmark_runs():
    output = run("-m", "bench.cli_startup", "--runs", "1", "--json")
    assert '"monitor approve ID --text T"' in output and '"median_s"' in output


def test_scale_benchmark_runs(tmp_path):
    output = run("bench/scale.py", "--posts", "300", "--repeat", "2", "--no-web", "--sqlite", str(tmp_path / "scale.db"))
    assert "queue first page (open) + count" in output and "dashboard" in output and "stats" in output


def test_search_benchmark_runs(tmp_path):
    output = run("bench/search.py", "--posts", "300", "--repeat", "2", "--sqlite", str(tmp_path / "search.db"))
    assert "search, a rare word" in output and "proposals waiting" in output
