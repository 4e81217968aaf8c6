"""A fake LINE Messaging API on 127.0.0.1 (no network), as the `fake_line` fixture for
every test (registered in tests/conftest.py), and LINE's way of signing webhooks.

It speaks LINE's wire format for the push (POST /v2/bot/message/push, JSON, Bearer token)
and behaves as LINE does with ``X-Line-Retry-Key``: a key it has accepted once is answered
409 ("The retry key is already accepted") and the message is not delivered again. Each
request is recorded; ``script`` holds the next answers (status, body, delay[, headers]) for
requests that are not such repeats; ``hold`` makes it accept a push (delivered) and then
keep the answer back until released: the instant in which a killed worker leaves its row
unmarked."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

LINE_USER = "U4af4980629" + "0" * 22
ACCEPTED = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}


def line_signature(body: bytes, secret: str) -> str:
    """X-Line-Signature as LINE computes it: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class FakeLine:
    def __init__(self):
        self.requests: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []  # what reached the person, once each
        self.script: list[tuple[Any, ...]] = []
        self.accepted_keys: set[str] = set()
        self.hold = threading.Event()  # set: accept, then keep the answer until released
        self.released = threading.Event()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("X-Line-Retry-Key")
                with fake.lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})
                    answer: tuple[Any, ...]
                    if key is not None and key in fake.accepted_keys:
                        answer = (409, {"message": "The retry key is already accepted", **ACCEPTED}, 0, {})
                    else:
                        status, reply, delay, *rest = (
                            fake.script.pop(0) if fake.script else (200, ACCEPTED, 0)
                        )
                        answer = (status, reply, delay, rest[0] if rest else {})
                        if status == 200:
                            fake.delivered.append(body)
                            if key is not None:
                                fake.accepted_keys.add(key)
                status, reply, delay, headers = answer
                if status == 200 and fake.hold.is_set():
                    fake.released.wait(timeout=60)
                time.sleep(delay)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("x-line-request-id", "fake-request-id")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (read timeout) or died

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_line(settings):
    fake = FakeLine()
    settings.LINE_BACKEND = "core.channels.line.LineMessagingApi"
    settings.LINE_API_BASE_URL = fake.url
    settings.LINE_CHANNEL_ACCESS_TOKEN = "test-channel-token"
    settings.LINE_CONNECT_TIMEOUT = 1.0
    settings.LINE_READ_TIMEOUT = 0.5
    yield fake
    fake.close()
