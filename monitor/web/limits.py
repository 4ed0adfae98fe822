"""The request body limit, enforced before anything parses it.

A form here is at most a reply (10,000 characters), a reason and a few hidden fields, so
`MAX_BODY_BYTES` is generous; anything larger is refused with 413 when its Content-Length says
so (nothing of it is read) and cut off with 413 as soon as a body without a length passes it.
"""
from __future__ import annotations

from typing import Any, Mapping

MAX_BODY_BYTES = 256 * 1024


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of request body per request."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES, headers: Mapping[str, str] = {}):
        self.app, self.limit, self.headers = app, limit, dict(headers)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 12 or int(declared) > self.limit):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = (f"The request is too large (at most {self.limit // 1024} KiB); nothing was changed.").encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), (b"cache-control", b"no-store"),
                   *((k.lower().encode(), v.encode()) for k, v in self.headers.items())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
