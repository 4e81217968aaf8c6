"""Fixed-window request counting in the shared cache (Redis in production, so every web
process sees the same counts; local memory in the embedded default).

One atomic INCR per hit: a window is ``window`` seconds aligned to the epoch, and a caller
over its limit is told how long until the window ends (Retry-After). A fixed window lets a
client spend its limit at the end of one window and again at the start of the next; the
limits this guards (partner requests a minute, booking attempts an hour) are sized with
that in mind, and the scarce resource itself (seats) is guarded by the database.

The client address of a public request comes from ``client_address``: REMOTE_ADDR, or,
only behind TRUSTED_PROXY_COUNT trusted proxies, the X-Forwarded-For entry the outermost
trusted proxy wrote. Anything a client writes into that header itself is ignored.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac


@dataclass(frozen=True)
class RateLimit:
    name: str  # part of the cache key: one counter per limit and subject
    limit: int  # hits allowed per window
    window: int  # seconds


def rate_limit_hit(*, rule: RateLimit, subject: str, now: float | None = None) -> int | None:
    """Count one hit of ``subject`` against ``rule``: None while within the limit, else
    the whole seconds until the window ends (at least 1)."""
    now = time.time() if now is None else now
    window = int(now // rule.window)
    key = f"ratelimit:{rule.name}:{subject}:{window}"
    try:
        count = cache.incr(key)  # one round trip in the common case
    except ValueError:  # the window's first hit
        count = 1 if cache.add(key, 1, timeout=rule.window + 30) else cache.incr(key)
    if count <= rule.limit:
        return None
    return max(1, math.ceil((window + 1) * rule.window - now))


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` (see the module's docstring)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [hop for hop in hops if hop]
    # Each trusted proxy appended the address it was connected from: the last `proxies`
    # entries are theirs, and the first of those is the client as the outermost one saw it.
    return hops[-proxies] if len(hops) >= proxies else remote


def client_key(address: str) -> str:
    """A keyed hash of a client address: what counters and records hold instead of it."""
    return salted_hmac("urakata.ratelimit.client", address, algorithm="sha256").hexdigest()[:32]
