"""One validated settings object from `settings.toml` plus environment variables.

Every problem becomes a `SettingsError` that names the key ("[analysis] flag_threshold: ...");
the CLI prints it and exits with code 2. Secrets never live in settings.toml: they come from the
environment (`MONITOR_SECRET_<SECTION>_<KEY>`) or from a secrets file outside the repository.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.analysis.config import AnalysisSettings
from monitor.daemon.config import AlertSettings, DaemonSettings, SlaSettings
from monitor.drafting.config import DraftingSettings, ShopSettings
from monitor.errors import SettingsError
from monitor.web.config import WebSettings

ENV_SETTINGS = "MONITOR_SETTINGS"
ENV_DATABASE = "MONITOR_DATABASE_URL"
ENV_SECRETS_FILE = "MONITOR_SECRETS_FILE"
# Keys that hold a secret by their name (access_token, client_secret, smtp_password, ...);
# `token_uri` or `password_env` are not secrets.
SECRET_KEY_PATTERN = re.compile(r"(^|_)(token|secret|password|passwd|api_?key|private_key|webhook_url)$", re.I)


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AppSettings(Section):
    database_url: str = "sqlite:///monitor.db"
    user: str = "operator"                 # who acts in the CLI when --as is not given
    timezone: str = "Europe/Warsaw"
    secrets_file: Optional[str] = None     # TOML file outside the repo: [section] key = "..."
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"   # json: one object per line (monitor/logformat.py)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Warsaw')")
        return value


class RetentionSettings(Section):
    """GDPR storage limitation: posts older than `days` are erased by the daemon (0: kept)."""

    days: int = Field(default=0, ge=0, le=36500)
    check_every_hours: float = Field(default=24, gt=0, le=24 * 7)


class ApprovalSettings(Section):
    """[approval]: the four-eyes rule. A text with one of these findings cannot be approved over
    the finding by the person who wrote it; a second approver confirms."""

    four_eyes: list[str] = ["personal_data", "liability", "legal"]


class TranslationSettings(Section):
    """[translation]: an optional local translation model for the web app's translation panel
    (a transformers seq2seq folder such as an Opus-MT model; empty: no panel). Never downloaded."""

    model: str = ""
    target_language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    max_new_tokens: int = Field(default=256, ge=8, le=1024)


class SourceSettings(Section):
    """One polled account/page/subreddit/location. Platform keys are checked by its connector."""

    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    platform: str
    enabled: bool = True
    interval_seconds: int = Field(default=300, ge=10, le=86400)

    def options(self) -> dict[str, Any]:
        """The platform-specific keys."""
        return dict(self.model_extra or {})


class Settings(Section):
    app: AppSettings = AppSettings()
    shop: ShopSettings = ShopSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    drafting: DraftingSettings = DraftingSettings()
    daemon: DaemonSettings = DaemonSettings()
    alerts: AlertSettings = AlertSettings()
    sla: SlaSettings = SlaSettings()
    web: WebSettings = WebSettings()
    retention: RetentionSettings = RetentionSettings()
    approval: ApprovalSettings = ApprovalSettings()
    translation: TranslationSettings = TranslationSettings()
    sources: list[SourceSettings] = []
    path: Optional[str] = Field(default=None, exclude=True)  # where these came from (None: defaults)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceSettings]) -> list[SourceSettings]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return sources

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        raise SettingsError(f"[[sources]] {name}", "no source of that name is configured")


def _key_of(location: tuple[Any, ...], raw: Mapping[str, Any]) -> str:
    """'[analysis] flag_threshold' or '[[sources]] #2 (x-main) interval_seconds'."""
    if not location:
        return "settings"
    head, *rest = location
    if head == "sources" and rest and isinstance(rest[0], int):
        index = rest[0]
        name = ""
        try:
            name = f" ({raw['sources'][index]['name']})"
        except (KeyError, IndexError, TypeError):
            pass
        tail = ".".join(str(part) for part in rest[1:])
        return f"[[sources]] #{index + 1}{name}" + (f" {tail}" if tail else "")
    if rest:
        return f"[{head}] " + ".".join(str(part) for part in rest)
    return f"[{head}]" if isinstance(raw.get(head), dict) else str(head)


def _reject_committed_secrets(raw: Mapping[str, Any]) -> None:
    for section, body in raw.items():
        items = [(f"[{section}]", body)] if isinstance(body, dict) else []
        if section == "sources" and isinstance(body, list):
            items = [(f"[[sources]] #{i + 1}", entry) for i, entry in enumerate(body) if isinstance(entry, dict)]
        for where, table in items:
            for key, value in table.items():
                if SECRET_KEY_PATTERN.search(key) and not key.endswith("_env") and isinstance(value, str) and value:
                    raise SettingsError(
                        f"{where} {key}",
                        "secrets must not be written in settings.toml; set the environment variable "
                        f"{secret_env_name(table.get('name', section), key)} or use a secrets file",
                    )


def _apply_env(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """MONITOR_DATABASE_URL, and MONITOR_<SECTION>__<KEY> for any scalar key."""
    if environ.get(ENV_DATABASE):
        raw.setdefault("app", {})["database_url"] = environ[ENV_DATABASE]
    for name, value in environ.items():
        if not name.startswith("MONITOR_") or "__" not in name:
            continue
        section, _, key = name[len("MONITOR_"):].partition("__")
        section, key = section.lower(), key.lower()
        if section in Settings.model_fields and section not in ("sources", "path") and key:
            raw.setdefault(section, {})[key] = value
    return raw


def find_settings_file(explicit: Optional[str] = None, environ: Mapping[str, str] = os.environ) -> Optional[Path]:
    """--settings, then $MONITOR_SETTINGS, then ./settings.toml; None means embedded defaults."""
    candidate = explicit or environ.get(ENV_SETTINGS)
    if candidate:
        path = Path(candidate).expanduser()
        if not path.is_file():
            raise SettingsError("settings", f"file not found: {path}")
        return path
    local = Path("settings.toml")
    return local if local.is_file() else None


def load_settings(path: Optional[str | Path] = None, environ: Mapping[str, str] = os.environ,
                  *, search: bool = True) -> Settings:
    """Read, merge with the environment, validate. Raises SettingsError only."""
    file = find_settings_file(str(path) if path else None, environ) if search or path else None
    raw: dict[str, Any] = {}
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(str(file), f"not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(str(file), f"cannot be read: {exc}") from None
    _reject_committed_secrets(raw)
    raw = _apply_env(raw, environ)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_of(tuple(error["loc"]), raw)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against the documented settings.toml)"
        elif "input" in error and error["type"] != "missing" and not isinstance(error["input"], (dict, list)):
            message = f"{message} (got {error['input']!r})"
        raise SettingsError(key, message) from None
    settings.path = str(file) if file else None
    return settings


def secret_env_name(section: str, key: str) -> str:
    clean = lambda part: re.sub(r"[^A-Za-z0-9]", "_", part).upper()  # noqa: E731
    return f"MONITOR_SECRET_{clean(section)}_{clean(key)}"


class SecretStore:
    """Secrets by (section or source name, key): the environment first, then the secrets file.

    Values are never included in messages; only the names of where to put them are.
    """

    def __init__(self, settings: Settings, environ: Mapping[str, str] = os.environ):
        self._environ = environ
        self._file: dict[str, Any] = {}
        location = environ.get(ENV_SECRETS_FILE) or settings.app.secrets_file
        if location:
            path = Path(location).expanduser()
            try:
                self._file = tomllib.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise SettingsError("[app] secrets_file", f"file not found: {path}") from None
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                # The message of a TOML error may quote a line of the file: do not repeat it.
                raise SettingsError("[app] secrets_file", f"cannot be read as TOML ({type(exc).__name__})") from None

    def get(self, section: str, key: str) -> Optional[str]:
        value = self._environ.get(secret_env_name(section, key))
        if value:
            return value
        table = self._file.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str) and table[key]:
            return table[key]
        return None

    def require(self, section: str, key: str) -> str:
        value = self.get(section, key)
        if value is None:
            raise SettingsError(
                f"secret {section}.{key}",
                f"missing; set the environment variable {secret_env_name(section, key)} "
                f"or add [{section}] {key} to the secrets file",
            )
        return value
