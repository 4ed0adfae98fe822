"""`[web] trusted_proxies`: X-Forwarded-For/-Proto are believed only from the named proxies, as
`monitor serve` configures uvicorn; a bad entry names the key."""
from __future__ import annotations

import asyncio

import pytest
import uvicorn

from monitor.settings import SettingsError


async def echo(scope, receive, send):
    """Answers with the client address and scheme the server believed."""
    body = f"{scope['client'][0]} {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


def seen(options: dict, peer: str) -> str:
    config = uvicorn.Config(echo, **options)
    config.load()
    sent: list[dict] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "", "client": (peer, 50000),
             "server": ("127.0.0.1", 8000),
             "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")]}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)
    asyncio.run(config.loaded_app(scope, receive, send))
    return sent[-1]["body"].decode()


def test_forwarded_headers_only_from_configured_proxies(make_settings):
    settings = make_settings('[web]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/24"]\n')
    options = settings.web.server_options()
    assert seen(options, "127.0.0.1") == "203.0.113.9 https"       # the proxy tells who the client is
    assert seen(options, "10.0.0.7") == "203.0.113.9 https"
    assert seen(options, "198.51.100.4") == "198.51.100.4 http"    # anyone else cannot
    assert seen(make_settings("").web.server_options(), "127.0.0.1") == "127.0.0.1 http"   # default: none


def test_a_wildcard_proxy_is_refused(make_settings):
    with pytest.raises(SettingsError) as error:
        make_settings('[web]\ntrusted_proxies = ["*"]\n')
    assert error.value.key == "[web] trusted_proxies"
