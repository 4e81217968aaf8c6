"""A fake Twilio REST API on 127.0.0.1 (no network), as the `fake_twilio` fixture
(registered in tests/conftest.py), and Twilio's way of signing its callbacks.

It speaks Twilio's wire format for creating a message (POST
/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP Basic with the account
SID and auth token; 201 with the message resource, errors as {"code", "message",
"more_info", "status"}). ``script`` holds the next answers (status, body, delay)."""

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-twilio-auth-token"  # the fake's
FROM_NUMBER = "+815012345678"


def twilio_signature(url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it: base64 of HMAC-SHA1 of the URL followed by
    each POST parameter's name and value, sorted by name."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_error(status: int, code: int, message: str) -> dict[str, object]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio:
    def __init__(self):
        self.requests: list[dict[str, object]] = []
        self.script: list[tuple[int, dict[str, object], float]] = []
        self.sids = (f"SM{n:032x}" for n in itertools.count(1))
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {key: values[0] for key, values in parse_qs(raw).items()}
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
                status, reply, delay = fake.script.pop(0) if fake.script else (201, None, 0)
                if reply is None:
                    reply = {
                        "sid": next(fake.sids),
                        "account_sid": ACCOUNT_SID,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "messaging_service_sid": form.get("MessagingServiceSid"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "date_created": "Tue, 24 Nov 2026 01:00:00 +0000",
                        "date_updated": "Tue, 24 Nov 2026 01:00:00 +0000",
                        "date_sent": None,
                        "error_code": None,
                        "error_message": None,
                        "price": None,
                        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/x.json",
                    }
                time.sleep(delay)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_TIMEOUT = 0.5
    yield fake
    fake.close()
