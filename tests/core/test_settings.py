"""Broken settings give one clear message naming the key and exit code 2; secrets never leak."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.settings import SecretStore, SettingsError, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, key", [
    ("[analysis]\nflag_treshold = 0.5\n", "[analysis] flag_treshold"),
    ("[analysis]\nflag_threshold = 7\n", "[analysis] flag_threshold"),
    ("[app]\ntimezone = \"Mars/Base\"\n", "[app] timezone"),
    ("[[sources]]\nname = \"a\"\nplatform = \"x\"\ninterval_seconds = 1\n", "[[sources]] #1 (a) interval_seconds"),
    ("[[sources]]\nname = \"a\"\nplatform = \"x\"\naccess_token = \"abc123\"\n", "[[sources]] #1 access_token"),
    ("[app\n", "settings.toml"),
])
def test_bad_settings_name_the_key(tmp_path, text, key):
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, text), environ={})
    assert str(caught.value).startswith(key) or key in str(caught.value)
    assert "abc123" not in str(caught.value)


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, "[analysis]\nflag_threshold = 0.4\n")
    settings = load_settings(path, environ={"MONITOR_DATABASE_URL": "sqlite:///x.db", "MONITOR_ANALYSIS__FLAG_THRESHOLD": "0.9"})
    assert settings.app.database_url == "sqlite:///x.db" and settings.analysis.flag_threshold == 0.9


def test_missing_secret_names_where_to_put_it_and_values_never_show(tmp_path):
    settings = load_settings(write(tmp_path, ""), environ={})
    store = SecretStore(settings, environ={"MONITOR_SECRET_SHOP_X_BEARER_TOKEN": "s3cr3t-value"})
    assert store.require("shop-x", "bearer_token") == "s3cr3t-value"
    with pytest.raises(SettingsError) as caught:
        store.require("shop-x", "api_key")
    assert "MONITOR_SECRET_SHOP_X_API_KEY" in str(caught.value)
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('[alerts]\nwebhook_url = "https://hooks.example/T0/B0/zzz"\n', encoding="utf-8")
    store = SecretStore(settings, environ={"MONITOR_SECRETS_FILE": str(secrets_file)})
    assert store.get("alerts", "webhook_url").endswith("zzz")
    secrets_file.write_text('[alerts\nwebhook_url = "https://hooks.example/T0/B0/zzz"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        SecretStore(settings, environ={"MONITOR_SECRETS_FILE": str(secrets_file)})
    assert "zzz" not in str(caught.value)


def test_cli_exits_2_with_one_message_and_no_traceback(tmp_path):
    path = write(tmp_path, "[drafting]\nvoice = \"pirate\"\n")
    result = CliRunner().invoke(app, ["--settings", str(path), "queue"])
    assert result.exit_code == 2
    assert "[drafting] voice" in result.output and "Traceback" not in result.output


def test_cli_reports_unusable_database_with_exit_5(tmp_path):
    path = write(tmp_path, f'[app]\ndatabase_url = "sqlite:///{tmp_path}/missing-dir/sub/m.db"\n')
    result = CliRunner().invoke(app, ["--settings", str(path), "queue"])
    assert result.exit_code == 5 and "database" in result.output and "Traceback" not in result.output


def test_init_checks_every_source_before_registering_any(tmp_path):
    database = f"sqlite:///{tmp_path}/m.db"
    path = write(tmp_path, f'[app]\ndatabase_url = "{database}"\n[[sources]]\nname = "shop"\nplatform = "twitter"\n')
    result = CliRunner().invoke(app, ["--settings", str(path), "init"])
    assert result.exit_code == 2 and "unknown platform 'twitter'" in result.output
    path = write(tmp_path, f'[app]\ndatabase_url = "{database}"\n[[sources]]\nname = "shop"\nplatform = "x"\naccount_id = "1"\n')
    result = CliRunner().invoke(app, ["--settings", str(path), "init"])
    assert result.exit_code == 2 and "MONITOR_SECRET_SHOP_CONSUMER_KEY" in result.output     # the typo is forgotten
    secrets = {f"MONITOR_SECRET_SHOP_{key.upper()}": "s3cret-value-1"
               for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret")}
    result = CliRunner().invoke(app, ["--settings", str(path), "init"], env=secrets)
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
