"""The fake platforms themselves (control endpoint, failure plans) and the demo wiring: the demo
posts seeded into the fake are collected, per platform, by the real connectors."""
from __future__ import annotations

import pytest
import requests

from connectors import registry
from monitor.fakes import FakePlatforms
from monitor.fakes.demo import demo_secret_env, demo_sources, load_demo_posts
from monitor.settings import SecretStore, Settings, load_settings
from tests.connectors.conftest import Collector, target_of


def test_control_endpoint_adds_posts_plans_failures_and_lists_replies(fake, connect):
    base = fake.base_url
    added = requests.post(f"{base}/_fake/posts", json={"platform": "x", "text": "@DemoShop hi", "author": "zed"},
                          timeout=5).json()["id"]
    assert requests.post(f"{base}/_fake/fail", json={"platform": "x", "kind": "rate_limit"}, timeout=5).ok
    assert requests.post(f"{base}/_fake/fail", json={"platform": "x", "kind": "bogus"}, timeout=5).status_code == 400

    assert requests.get(f"{base}/2/users/1/mentions", headers={"Authorization": "Bearer t"}, timeout=5).status_code == 429
    connector = connect("x")
    item = next(i for i in Collector(connector).run() if i.external_id == added)
    connector.reply(target_of(item), "Hello from the shop")

    replies = requests.get(f"{base}/_fake/replies", params={"platform": "x"}, timeout=5).json()["replies"]
    assert [r["text"] for r in replies] == ["Hello from the shop"]
    seen = requests.get(f"{base}/_fake/requests", timeout=5).json()["requests"]
    assert any(r["failed"] == "rate_limit" for r in seen)


def test_fake_refuses_requests_without_credentials(fake):
    base = fake.base_url
    assert requests.get(f"{base}/2/users/1/mentions", timeout=5).status_code == 401
    assert requests.get(f"{base}/v21.0/{fake.brand.facebook_page_id}/feed", timeout=5).json()["error"]["code"] == 104
    assert requests.get(f"{base}/r/zakupy/comments", timeout=5).status_code == 401
    assert requests.get(f"{base}/v4/accounts/1/locations/2/reviews", timeout=5).status_code == 401
    assert requests.get(f"{base}/sale/user-ratings", timeout=5).status_code == 401
    assert requests.post(f"{base}/method/wall.get", data={"v": "5.199"}, timeout=5).json()["error"]["error_code"] == 5
    assert requests.get(f"{base}/youtube/v3/commentThreads", timeout=5).status_code == 401
    assert requests.get(f"{base}/v1/private/reviews/1", timeout=5).status_code == 401


def test_fail_next_validates_its_arguments(fake):
    with pytest.raises(ValueError):
        fake.fail_next("myspace", "rate_limit")
    with pytest.raises(ValueError):
        fake.fail_next("x", "meteor")


def test_demo_posts_are_collected_by_the_real_connectors():
    posts = load_demo_posts()
    with FakePlatforms.start(seed="demo") as fake:
        sources = demo_sources(fake.base_url, fake.brand)
        secrets = SecretStore(Settings(), environ=demo_secret_env(sources))
        collected = {}
        for source in sources:
            options = {k: v for k, v in source.items() if k not in ("name", "platform")}
            connector = registry()[source["platform"]].from_settings(source["name"], options, secrets)
            collected.update({(source["platform"], i.external_id): i for i in Collector(connector).run()})
            connector.close()
        assert len(fake.seeded) == len(posts)
        for post in posts:
            key = fake.seeded[post["id"]]
            assert key in collected, f"demo post {post['id']} was not collected"
            assert collected[key].text == post["text"]
            if post.get("rating"):
                assert collected[key].rating == post["rating"]
        assert len(collected) == len(posts)


def test_demo_sources_pass_the_settings_validation(tmp_path):
    """The demo's [[sources]] go through the same settings loader as a user's settings.toml."""
    lines = []
    for source in demo_sources("http://127.0.0.1:8765"):
        lines.append("[[sources]]")
        for key, value in source.items():
            rendered = str(value) if isinstance(value, int) else \
                "[" + ", ".join(f'"{v}"' for v in value) + "]" if isinstance(value, list) else \
                '"' + str(value).replace('"', '\\"') + '"'
            lines.append(f"{key} = {rendered}")
    path = tmp_path / "settings.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    settings = load_settings(path, environ={})
    secrets = SecretStore(settings, environ=demo_secret_env())
    for source in settings.sources:
        connector = registry()[source.platform].from_settings(source.name, source.options(), secrets)
        connector.close()


def test_connections_opened_while_the_fake_is_busy_are_all_answered(fake):
    """Clients connecting while the fake has not yet accepted earlier connections (several
    processes at once) wait in the listen queue and are answered, never reset or dropped (the fake
    once listened with socketserver's backlog of 5)."""
    import socket
    import threading
    host, port = fake._server.server_address[:2]
    gate, accept = threading.Event(), fake._server.process_request
    held = []

    def hold_the_first(request, address):  # the accept loop stalls, as under load
        if not held:
            held.append(True)
            gate.wait(10)
        return accept(request, address)

    fake._server.process_request = hold_the_first
    clients = []
    for _ in range(16):
        client = socket.create_connection((host, port), timeout=2)
        client.sendall(b"GET /_fake/replies HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n")
        clients.append(client)
    gate.set()
    answers = [client.recv(12) for client in clients]
    for client in clients:
        client.close()
    assert answers == [b"HTTP/1.1 200"] * 16
