"""Each connector validates its own `[[sources]]` keys (errors name the key), reads secrets only
from the secret store, and never lets a secret reach a log line or an error message."""
from __future__ import annotations

import logging

import pytest

from connectors import registry
from connectors._http import scrub
from connectors.base import ConnectorError
from monitor.fakes.demo import demo_secret_env, demo_sources
from monitor.settings import SecretStore, SettingsError, Settings
from tests.connectors.conftest import PLATFORMS, Collector, seed, target_of


def source_for(platform, base_url="http://127.0.0.1:9"):
    source = next(s for s in demo_sources(base_url) if s["platform"] == platform)
    options = {k: v for k, v in source.items() if k not in ("name", "platform")}
    return source, options


def build(platform, options, environ=None, name=None):
    source, _ = source_for(platform)
    secrets = SecretStore(Settings(), environ=demo_secret_env([source]) if environ is None else environ)
    return registry()[platform].from_settings(name or source["name"], options, secrets)


def test_registry_finds_one_connector_per_platform():
    found = registry()
    assert set(PLATFORMS) <= set(found)
    assert found["x"].max_reply_length == 280 and found["google_reviews"].max_reply_length == 4096


# Allegro needs no key besides its secrets (the token says whose ratings they are).
REQUIRED = {"x": "account_id", "facebook": "page_id", "instagram": "account_id", "reddit": "username",
            "google_reviews": "location_id", "vk": "group_id", "youtube": "channel_id",
            "trustpilot": "business_unit_id"}


@pytest.mark.parametrize("platform", sorted(REQUIRED))
def test_missing_required_key_names_source_and_key(platform):
    source, options = source_for(platform)
    del options[REQUIRED[platform]]
    with pytest.raises(SettingsError) as raised:
        build(platform, options)
    assert raised.value.key == f"[[sources]] {source['name']} {REQUIRED[platform]}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_misspelt_key_is_an_error_not_ignored(platform):
    _, options = source_for(platform)
    options["pagesize"] = 10
    with pytest.raises(SettingsError) as raised:
        build(platform, options)
    assert raised.value.key.endswith(" pagesize") and "unknown key" in raised.value.message


@pytest.mark.parametrize("key, value, words", [
    ("account_id", "@DemoShop", "numeric user id"),
    ("page_size", 1000, "between 5 and 100"),
    ("base_url", "http://api.example.com", "only for 127.0.0.1"),
    ("base_url", "ftp://127.0.0.1", "http(s) URL"),
    ("query", "", "non-empty"),
])
def test_bad_values_are_explained(key, value, words):
    _, options = source_for("x")
    options[key] = value
    with pytest.raises(SettingsError) as raised:
        build("x", options)
    assert raised.value.key == f"[[sources]] demo-x {key}" and words in raised.value.message


def test_reddit_needs_subreddits_or_mentions():
    _, options = source_for("reddit")
    options.update(subreddits=[], inbox_mentions=False)
    with pytest.raises(SettingsError) as raised:
        build("reddit", options)
    assert raised.value.key.endswith(" subreddits")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_missing_secret_names_the_variable_but_no_value(platform):
    source, options = source_for(platform)
    environ = demo_secret_env([source])
    dropped = sorted(environ)[0]
    del environ[dropped]
    if platform == "x" and dropped.endswith("BEARER_TOKEN"):  # optional: reads fall back to user auth
        pytest.skip("bearer token is optional")
    with pytest.raises(SettingsError) as raised:
        build(platform, options, environ)
    message = str(raised.value)
    assert dropped in message or (platform == "reddit" and "REFRESH_TOKEN" in message)
    assert not any(value in message for value in environ.values())


def test_reddit_accepts_a_password_instead_of_a_refresh_token(fake, connect):
    source, options = source_for("reddit", fake.base_url)
    environ = demo_secret_env([source])
    del environ["MONITOR_SECRET_DEMO_REDDIT_REFRESH_TOKEN"]
    environ["MONITOR_SECRET_DEMO_REDDIT_PASSWORD"] = "hunter2-password"
    connector = build("reddit", options, environ)
    ids = seed(fake, "reddit", 2)
    assert sorted(i.external_id for i in Collector(connector).run()) == sorted(ids)
    connector.close()


def test_scrub_removes_tokens_from_urls_headers_and_registered_values():
    from connectors._http import register_secret
    register_secret("s3cr3t-value-123")
    text = ("GET /v21.0/1/feed?fields=id&access_token=EAAB123&limit=2 Authorization: Bearer abc.def "
            "OAuth oauth_consumer_key=\"k\", oauth_signature=\"sig\" then s3cr3t-value-123 "
            "client_secret=xyz refresh_token: \"rt\"")
    clean = scrub(text)
    for secret in ("EAAB123", "abc.def", "oauth_signature=\"sig\"", "s3cr3t-value-123", "xyz", "rt\""):
        assert secret not in clean
    assert "fields=id" in clean and "limit=2" in clean


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_secret_reaches_logs_or_errors(fake, connect, platform, caplog):
    source = next(s for s in demo_sources(fake.base_url) if s["platform"] == platform)
    secret_values = list(demo_secret_env([source]).values())
    caplog.set_level(logging.DEBUG)
    connector = connect(platform)
    seed(fake, platform, 3)
    collector = Collector(connector)
    items = collector.run()
    connector.reply(target_of(items[0]), "Thank you!")
    messages = []
    for kind in ("rate_limit", "auth_expired", "malformed", "truncated", "disconnect"):
        fake.fail_next(platform, kind, times=12)  # enough for every stream of both runs
        try:
            connect(platform).collect(None).__next__()
            pages = list(connect(platform).collect(None))
            # A malformed item is not an error: it is handed over for quarantine, and scrubbed there.
            messages.extend(f"{u.error} {u.payload}" for page in pages for u in page.unreadable)
        except ConnectorError as error:
            messages.append(str(error))
            assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
        fake.clear_failures()
    assert len(messages) >= 5
    assert caplog.records, "the libraries logged nothing at DEBUG: the check would prove nothing"
    everything = caplog.text + "\n".join(messages)
    leaked = [value for value in secret_values if value in everything]
    assert not leaked
    assert "access_token=demo" not in everything
