"""A fake LINE Messaging API on 127.0.0.1 (no network), as the `fake_line` fixture for
every test (registered in tests/conftest.py): it records each push and answers with the
next scripted (status, body, delay)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LINE_USER = "U4af4980629" + "0" * 22


class FakeLine:
    """Answers each POST with the next scripted (status, body, delay) and records it."""

    def __init__(self):
        self.requests: list[dict[str, object]] = []
        self.script: list[tuple[int, dict[str, object], float]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                status, reply, delay = fake.script.pop(0) if fake.script else (200, {"sentMessages": []}, 0)
                time.sleep(delay)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (read timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
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
