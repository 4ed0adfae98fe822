"""Local alert receivers on 127.0.0.1: a Slack-compatible webhook endpoint and an SMTP server."""
from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


class WebhookReceiver:
    """Collects JSON posts; `status` is what it answers, `delay` how long it thinks first."""

    def __init__(self, path: str = "/services/T000/B000/SECRET-TOKEN-123"):
        self.path = path
        self.messages: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if self.path == receiver.path and receiver.status == 200:
                    receiver.messages.append(json.loads(body))
                self.send_response(receiver.status if self.path == receiver.path else 404)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpReceiver:
    """An aiosmtpd server that keeps every message it receives."""

    def __init__(self):
        self.messages: list[Message] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                receiver.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
