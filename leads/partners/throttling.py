from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.ratelimit import RateLimit, rate_limit_hit
from leads.partners.authentication import PartnerUser


class PartnerRateThrottle(BaseThrottle):
    """Each partner's own requests-per-minute limit (0: unlimited), counted in the shared
    cache (core.ratelimit: a fixed one-minute window; Retry-After is the time to the next)."""

    def __init__(self) -> None:
        self.retry_after = 0

    def allow_request(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not isinstance(user, PartnerUser) or user.partner.rate_limit_per_minute == 0:
            return True
        rule = RateLimit(name="partner", limit=user.partner.rate_limit_per_minute, window=60)
        retry_after = rate_limit_hit(rule=rule, subject=str(user.partner.pk))
        self.retry_after = retry_after or 0
        return retry_after is None

    def wait(self) -> float:
        return float(self.retry_after)
