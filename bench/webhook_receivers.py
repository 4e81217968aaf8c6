"""Partners' webhook receivers for bench/webhooks.py, in a process of their own so that they
take none of the benchmark's or the workers' interpreter: one asyncio server per port on
127.0.0.1, HTTP/1.1 with keep-alive, every request verified with the reference
`standardwebhooks` library. A healthy receiver answers 204 at once; the dead one reads the
request and never answers (the sender gives up after WEBHOOK_TIMEOUT).

    python -m bench.webhook_receivers --secrets SECRETS.json --log RECEIPTS.log

SECRETS.json: {"<port>": {"secret": "whsec_...", "dead": false}, ...}. On SIGTERM every
request received is written to the log, one line each: port, webhook-id, arrival time
(time.time()), 1 if the signature verified else 0, then the process exits. "listening" is
printed once every port listens."""

import argparse
import asyncio
import json
import signal
import time
from pathlib import Path

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

Receipt = tuple[int, str, float, int]


async def _serve(port: int, webhook: Webhook, dead: bool, receipts: list[Receipt]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.time()
                lines = head.decode("latin-1").split("\r\n")[1:]
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                try:
                    webhook.verify(body, headers)
                    verified = 1
                except WebhookVerificationError:
                    verified = 0
                receipts.append((port, headers.get("webhook-id", "-"), arrived, verified))
                if dead:
                    await asyncio.sleep(3600)  # never answers; the sender closes first
                    return
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the sender closed the connection
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)


async def _main(secrets: dict[str, dict[str, object]], log: Path) -> None:
    receipts: list[Receipt] = []
    servers = [
        await _serve(int(port), Webhook(str(spec["secret"])), bool(spec["dead"]), receipts)
        for port, spec in secrets.items()
    ]
    print("listening", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    log.write_text("".join(f"{p} {i} {at:.6f} {v}\n" for p, i, at, v in receipts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--secrets", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(_main(json.loads(args.secrets.read_text()), args.log))


if __name__ == "__main__":
    main()
