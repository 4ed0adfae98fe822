"""`monitor doctor`: is this installation ready to run unattended?

Settings, the database and its schema revision, the model files, every source's credentials (one
cheap authenticated call each, and the token's end where the platform tells it), the alert
channels, the clock and the time zone. Each check is one row: ok, warn (works, but look), fail
(will not work), or n/a. The daemon runs `credential_checks` daily and alerts before an expiry.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import text

from connectors.base import AuthExpired, ConnectorError, RateLimited
from models import as_utc, utcnow
from monitor.db import DatabaseError
from monitor.settings import SettingsError

OK, WARN, FAIL, NA = "ok", "warn", "fail", "n/a"
CLOCK_SKEW_WARN = timedelta(seconds=30)


@dataclass
class Check:
    area: str
    status: str
    detail: str
    expires_at: Optional[datetime] = None
    source: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return row


def run_checks(monitor: Any, now: Optional[datetime] = None) -> list[Check]:
    now = now or utcnow()
    checks = [check_settings(monitor)]
    database = check_database(monitor)
    checks.append(database)
    checks += check_models(monitor.settings)
    checks += credential_checks(monitor, now)
    checks.append(check_alerts(monitor))
    checks += check_clock(monitor, now, database_ok=database.status != FAIL)
    return checks


def failed(checks: list[Check]) -> bool:
    return any(c.status == FAIL for c in checks)


def check_settings(monitor: Any) -> Check:
    settings = monitor.settings
    where = settings.path or "built-in defaults (no settings.toml found)"
    enabled = sum(1 for s in settings.sources if s.enabled)
    return Check("settings", OK if settings.path else WARN, f"{where}; {enabled} enabled source(s)")


def check_database(monitor: Any) -> Check:
    from monitor.backup import known_revisions, schema_revision
    try:
        with monitor.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = schema_revision(monitor.db)
    except DatabaseError as exc:
        return Check("database", FAIL, str(exc))
    except Exception as exc:  # unreachable, refused, bad file: all say "cannot be used"
        return Check("database", FAIL, f"{monitor.db!r} cannot be used: {type(exc).__name__}: "
                                       f"{str(getattr(exc, 'orig', exc)).strip().splitlines()[:1]}")
    chain = known_revisions()
    heads = set(chain) - {parent for parent in chain.values() if parent}
    if revision in heads:
        return Check("database", OK, f"{monitor.db!r}, schema {revision} (current)")
    if revision in chain:
        return Check("database", WARN, f"{monitor.db!r}, schema {revision}: behind; `monitor init` upgrades it")
    return Check("database", FAIL, f"{monitor.db!r}, schema {revision!r} is unknown to this version (newer?)")


def check_models(settings: Any) -> list[Check]:
    analysis, drafting = settings.analysis, settings.drafting
    rows = []
    if analysis.backend == "embedded":
        heads = Path(analysis.heads_path).expanduser() if analysis.heads_path else \
            Path(__file__).parent / "analysis" / "data" / "heads.npz"
        rows.append(Check("model", OK if heads.exists() else FAIL, f"analysis heads: {heads}"
                          + ("" if heads.exists() else " is missing")))
    elif analysis.backend == "transformers":
        rows.append(_local_model("analysis model", analysis.model))
    if analysis.lexicon_path:
        lexicon = Path(analysis.lexicon_path).expanduser()
        rows.append(Check("model", OK if lexicon.is_file() else FAIL, f"risk lexicon: {lexicon}"
                          + ("" if lexicon.is_file() else " is missing")))
    if drafting.backend == "transformers":
        rows.append(_local_model("drafting model", drafting.model))
    return rows or [Check("model", OK, f"analysis backend {analysis.backend!r} needs no model files")]


def _local_model(what: str, model: Optional[str]) -> Check:
    if model and Path(model).expanduser().exists():
        return Check("model", OK, f"{what}: {model}")
    return Check("model", WARN, f"{what}: {model!r} is not a local path; it must be in the local Hugging Face "
                                "cache (nothing is downloaded)")


def credential_checks(monitor: Any, now: Optional[datetime] = None) -> list[Check]:
    """One cheap authenticated call per enabled source; also what the daemon runs daily."""
    now = now or utcnow()
    warn_days = monitor.settings.alerts.expiry_warning_days
    return [check_source(monitor, source.name, now, warn_days) for source in monitor.settings.sources if source.enabled]


def check_source(monitor: Any, name: str, now: datetime, warn_days: int) -> Check:
    area = f"source {name}"
    try:
        info = monitor.connector(name).check_credentials()
    except SettingsError as exc:
        return Check(area, FAIL, f"settings: {exc}", source=name)
    except AuthExpired as exc:
        return Check(area, FAIL, f"needs re-authorisation: {exc}", source=name)
    except RateLimited as exc:
        return Check(area, WARN, f"rate-limited right now (credentials not judged): {exc}", source=name)
    except ConnectorError as exc:
        word = "unreachable" if "network error" in str(exc) else "error"
        return Check(area, FAIL, f"{word}: {exc}", source=name)
    if info is None:
        return Check(area, NA, "this platform has no credential check", source=name)
    if info.expires_at is None:
        return Check(area, OK, info.detail, source=name)
    expires = as_utc(info.expires_at)
    days = (expires - now).total_seconds() / 86400
    when = f"{expires:%Y-%m-%d %H:%M} UTC"
    if days <= 0:
        return Check(area, FAIL, f"{info.detail}; expired {when}", expires, name)
    status = WARN if days <= warn_days else OK
    return Check(area, status, f"{info.detail}; expires {when} (in {days:.0f} day(s))", expires, name)


def check_alerts(monitor: Any) -> Check:
    from monitor.daemon.alerts import build_channels
    try:
        channels = build_channels(monitor.settings, monitor.secrets)
    except SettingsError as exc:
        return Check("alerts", FAIL, str(exc))
    if not channels:
        return Check("alerts", WARN, "no [alerts] urls: nobody is told about critical posts or expiring tokens")
    return Check("alerts", OK, f"{len(channels)} channel(s): {', '.join(c.name for c in channels)} (nothing sent)")


def check_clock(monitor: Any, now: datetime, *, database_ok: bool) -> list[Check]:
    zone = ZoneInfo(monitor.settings.app.timezone)
    local = now.astimezone(zone)
    rows = [Check("time zone", OK, f"{monitor.settings.app.timezone}: {local:%Y-%m-%d %H:%M} (UTC{local:%z})")]
    skew: Optional[timedelta] = None
    if monitor.db.is_postgres and database_ok:
        try:
            with monitor.db.engine.connect() as connection:
                server = connection.execute(text("SELECT now()")).scalar()
            skew = as_utc(server) - utcnow()
        except Exception:  # the database row above already says why
            skew = None
    synced = _ntp_synchronised()
    parts = [f"{now:%Y-%m-%d %H:%M:%S} UTC"]
    status = OK
    if skew is not None:
        parts.append(f"{skew.total_seconds():+.1f} s against the database server")
        if abs(skew) > CLOCK_SKEW_WARN:
            status = WARN
    if synced is not None:
        parts.append("NTP synchronised" if synced else "NTP NOT synchronised")
        status = status if synced else WARN
    else:
        parts.append("NTP state unknown (no timedatectl)")
    rows.append(Check("clock", status, "; ".join(parts)))
    return rows


def _ntp_synchronised() -> Optional[bool]:
    program = shutil.which("timedatectl")
    if program is None:
        return None
    try:
        done = subprocess.run([program, "show", "-p", "NTPSynchronized", "--value"], capture_output=True,
                              text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.strip().lower()
    return {"yes": True, "no": False}.get(value)
