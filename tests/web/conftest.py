"""Web app fixtures: the fake platforms, a `Monitor` on the test database with the seeded posts
and people, the app, and signed-in test clients."""
from __future__ import annotations

from typing import Callable, Iterator, Optional

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from monitor.service import Monitor
from monitor.fakes import FakePlatforms
from web_helpers import build_monitor, seed_people, seed_posts, settings_toml, sign_in


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """Argon2id with RFC 9106's low-memory cost, so the many sign-ins here take milliseconds.
    Only the cost changes; hashing and checking run for real (test_users checks the defaults)."""
    import monitor.users
    monkeypatch.setattr(monitor.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def fake() -> Iterator[FakePlatforms]:
    platforms = FakePlatforms.start()
    yield platforms
    platforms.stop()


@pytest.fixture
def monitor(make_settings, fake) -> Iterator[Monitor]:
    service = build_monitor(make_settings(settings_toml(fake)))
    service.seeded = seed_posts(service, fake)
    seed_people(service)
    yield service
    service.close()


@pytest.fixture
def app(monitor):
    from monitor.web.app import create_app
    return create_app(monitor)


@pytest.fixture
def client_for(app) -> Iterator[Callable[[str], TestClient]]:
    """client_for("anna") -> a TestClient signed in as anna (each call: its own cookie jar)."""
    clients: list[TestClient] = []

    def make(name: Optional[str] = None, base_url: str = "http://testserver") -> TestClient:
        client = TestClient(app, base_url=base_url)
        clients.append(client)
        if name:
            response = sign_in(client, name)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()
