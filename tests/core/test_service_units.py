"""`monitor service print`: the shipped systemd units, filled in for this installation, with a
restart policy, hardening and the secrets' environment file; valid for `systemd-analyze verify`."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.systemd import monitor_executable


def printed(tmp_path, unit: str) -> str:
    result = CliRunner().invoke(app, ["service", "print", "--unit", unit, "--user", "root", "--workdir", str(tmp_path),
                                      "--env-file", str(tmp_path / "monitor.env")])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("unit, command", [("daemon", "daemon --worker-id %H"), ("serve", "serve")])
def test_units_are_filled_in_and_hardened(tmp_path, unit, command):
    text = printed(tmp_path, unit)
    assert f"ExecStart={monitor_executable()} {command}\n" in text
    assert f"EnvironmentFile={tmp_path / 'monitor.env'}\n" in text and f"ReadWritePaths={tmp_path}\n" in text
    for line in ("Restart=on-failure", "RestartPreventExitStatus=2", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "PrivateTmp=yes", "CapabilityBoundingSet=\n", "User=root"):
        assert line in text
    assert "{" not in text                                        # every placeholder filled


def test_units_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    (tmp_path / "monitor.env").write_text("", encoding="utf-8")
    paths = []
    for unit in ("daemon", "serve"):
        path = tmp_path / f"monitor-{unit}.service"
        path.write_text(printed(tmp_path, unit).split("\n", 1)[1], encoding="utf-8")   # without the "# ----" title
        paths.append(str(path))
    done = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "monitor-" not in done.stderr, done.stderr


def test_an_unknown_unit_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["service", "print", "--unit", "cron"])
    assert result.exit_code == 2 and "--unit must be" in result.output
