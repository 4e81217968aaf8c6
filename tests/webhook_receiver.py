"""A partner's webhook receiver on 127.0.0.1 (no network), as the `webhook_receiver`
fixture (registered in tests/conftest.py): a small threaded HTTP server that records every
request and verifies it with the reference `standardwebhooks` library, as a partner would.

``answer`` decides each reply: a status, or (status, delay in seconds); by default 204.
Each recorded request keeps its headers, raw body, arrival time and whether, and with
which of ``secrets``, its signature verified."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() on arrival (frozen with the test's clock)
    arrived: float  # time.monotonic() on arrival: for the order and spacing of arrivals
    verified_with: list[str] = field(default_factory=list)  # the secrets its signature verified with

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


class WebhookReceiver:
    """Listens on ``port`` (default: a free one); a given port lets a test bring a receiver
    up where a registered endpoint points while it was down."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.secrets: list[str] = []
        self.answer: Callable[[Received], int | tuple[int, float]] = lambda _request: 204
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.time(),
                    arrived=time.monotonic(),
                )
                for secret in list(receiver.secrets):
                    try:
                        Webhook(secret).verify(body, request.headers)
                    except WebhookVerificationError:
                        continue
                    request.verified_with.append(secret)
                with receiver.lock:
                    receiver.received.append(request)
                answer = receiver.answer(request)
                status, delay = answer if isinstance(answer, tuple) else (answer, 0.0)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
