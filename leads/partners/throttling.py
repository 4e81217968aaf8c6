import math
import time

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from leads.partners.authentication import PartnerUser


class PartnerRateThrottle(BaseThrottle):
    """Each partner's own requests-per-minute limit (0: unlimited), counted in the shared
    Redis cache so that every web process sees the same count. A fixed one-minute window:
    simple, one atomic INCR per request, and Retry-After is the time to the next window."""

    def __init__(self) -> None:
        self.retry_after = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not isinstance(user, PartnerUser) or user.partner.rate_limit_per_minute == 0:
            return True
        now = time.time()
        window = int(now // 60)
        key = f"ratelimit:partner:{user.partner.pk}:{window}"
        try:
            count = cache.incr(key)  # one round trip in the common case
        except ValueError:  # the window's first request
            count = 1 if cache.add(key, 1, timeout=90) else cache.incr(key)
        self.retry_after = (window + 1) * 60 - now
        return count <= user.partner.rate_limit_per_minute

    def wait(self) -> float:
        return float(max(1, math.ceil(self.retry_after)))
