"""The systemd units shipped with the package (`monitor/data/systemd/`), filled in for this
installation by `monitor service print`: which user runs it, where its data and settings live,
the environment file with the secrets, and the `monitor` executable of this environment."""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

UNITS = Path(__file__).with_name("data") / "systemd"
NAMES = {"daemon": "monitor-daemon.service", "serve": "monitor-serve.service"}


@dataclass(frozen=True)
class Install:
    user: str = "monitor"
    group: str = "monitor"
    workdir: str = "/var/lib/reply-monitor"
    settings: str = "/etc/reply-monitor/settings.toml"
    env_file: str = "/etc/reply-monitor/monitor.env"
    monitor: str = ""                  # default: the `monitor` next to this Python


def monitor_executable() -> str:
    beside = Path(sys.executable).with_name("monitor")
    return str(beside) if beside.exists() else (shutil.which("monitor") or str(beside))


def render(unit: str, install: Install) -> str:
    if unit not in NAMES:
        raise KeyError(f"unknown unit {unit!r}; one of {', '.join(NAMES)}")
    text = (UNITS / NAMES[unit]).read_text(encoding="utf-8")
    values = {**install.__dict__, "monitor": install.monitor or monitor_executable()}
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def env_example() -> str:
    return (UNITS / "monitor.env.example").read_text(encoding="utf-8")
