import logging
import time
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db.models import Count, FloatField, Prefetch, Q, QuerySet
from django.db.models.functions import Cast, NullIf
from redis.exceptions import RedisError

from roles.models import Certification, JobPosting, Role

logger = logging.getLogger(__name__)

# Bump the version when the cached value's shape changes, so that old processes and new ones
# never read each other's values during a deploy.
ROLE_SLUGS_CACHE_KEY = "roles:active-role-slugs:v1"
CERTIFICATION_CODES_CACHE_KEY = "roles:certification-codes:v1"
CATALOGUE_CACHE_KEYS = (ROLE_SLUGS_CACHE_KEY, CERTIFICATION_CODES_CACHE_KEY)
# The admin invalidates on every save; the timeout only bounds how long a change made another
# way (a data migration, the shell) can go unseen.
CATALOGUE_CACHE_TIMEOUT = 15 * 60

_OPEN = Q(postings__status=JobPosting.Status.OPEN)


def _certifications_in_order() -> QuerySet[Certification]:
    return Certification.objects.order_by("sort_order", "code")


def role_list() -> QuerySet[Role]:
    """Active roles for the public catalogue, each annotated with `inexperienced_welcome_share`:
    open postings welcoming newcomers / open postings, NULL when the role has none open.
    Two queries whatever the number of roles: the roles with their counts, the certifications."""
    open_count = Count("postings", filter=_OPEN)
    welcome_count = Count("postings", filter=_OPEN & Q(postings__inexperienced_welcome=True))
    return (
        Role.objects.filter(is_active=True)
        .annotate(
            inexperienced_welcome_share=Cast(welcome_count, FloatField())
            / NullIf(Cast(open_count, FloatField()), 0.0)
        )
        .prefetch_related(Prefetch("recommended_certifications", queryset=_certifications_in_order()))
        .order_by("sort_order", "slug")
    )


def role_get(*, slug: str) -> Role | None:
    """An active role with the same annotation as `role_list`; None when unknown or inactive."""
    return role_list().filter(slug=slug).first()


def certification_list() -> QuerySet[Certification]:
    return _certifications_in_order()


# A few seconds of per-process memory in front of Redis: every lead that names roles asks,
# and a Redis round trip costs more than the rest of the validation. A change made in the
# admin reaches other processes within LOCAL_TTL.
LOCAL_TTL = 5.0
_local: dict[str, tuple[float, frozenset[str]]] = {}


def catalogue_local_forget() -> None:
    _local.clear()


def _cached_frozenset(key: str, load: Callable[[], Iterable[str]]) -> frozenset[str]:
    hit = _local.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    value = _shared_frozenset(key, load)
    _local[key] = (time.monotonic() + LOCAL_TTL, value)
    return value


def _shared_frozenset(key: str, load: Callable[[], Iterable[str]]) -> frozenset[str]:
    try:
        cached = cache.get(key)
    except RedisError as exc:  # a cache outage must not stop lead intake: the database answers
        logger.warning("roles: cache unavailable for %s (%s)", key, type(exc).__name__)
        return frozenset(load())
    if cached is not None:
        return frozenset(cached)
    values = sorted(load())
    try:
        cache.set(key, values, timeout=CATALOGUE_CACHE_TIMEOUT)
    except RedisError as exc:
        logger.warning("roles: cache unavailable for %s (%s)", key, type(exc).__name__)
    return frozenset(values)


def role_slugs_active() -> frozenset[str]:
    """Slugs a lead may name in `desired_roles`. Cached: no query in the common case."""
    return _cached_frozenset(
        ROLE_SLUGS_CACHE_KEY, lambda: Role.objects.filter(is_active=True).values_list("slug", flat=True)
    )


def certification_codes() -> frozenset[str]:
    """Codes a lead may name in `certifications`. Cached: no query in the common case."""
    return _cached_frozenset(
        CERTIFICATION_CODES_CACHE_KEY, lambda: Certification.objects.values_list("code", flat=True)
    )


def job_posting_list() -> QuerySet[JobPosting]:
    """Every posting, for advisors only (never call this from a public or partner API).
    Three queries a page: the postings with employer and role, then each certification list."""
    return JobPosting.objects.select_related("employer", "role").prefetch_related(
        Prefetch("required_certifications", queryset=_certifications_in_order()),
        Prefetch("preferred_certifications", queryset=_certifications_in_order()),
    )


def job_posting_teaser(*, posting: JobPosting) -> dict[str, object]:
    """The posting as a candidate may see it before the employer is revealed: the
    structured conditions and the advisor-written teaser, never the employer, the title or
    the description (both may name the employer). A teaser that names the employer anyway
    (written before the check existed) has the name masked."""
    teaser = posting.teaser
    for name in (posting.employer.name, posting.employer.name_kana):
        if name:
            teaser = teaser.replace(name, "○○")
    return {
        "id": posting.pk,
        "role": posting.role,
        "prefecture": posting.prefecture,
        "remote": posting.remote,
        "employment_type": posting.employment_type,
        "salary_min": posting.salary_min,
        "salary_max": posting.salary_max,
        "inexperienced_welcome": posting.inexperienced_welcome,
        "experience_preferred": posting.experience_preferred,
        "weekends_holidays_off": posting.weekends_holidays_off,
        "annual_holidays": posting.annual_holidays,
        "avg_monthly_overtime_hours": posting.avg_monthly_overtime_hours,
        "required_certifications": list(posting.required_certifications.all()),
        "teaser": teaser,
    }
