import hashlib
import secrets
import time
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from leads.models import ApiKey, Partner

KEY_NAMESPACE = "urk"
_USED_CACHE_KEY = "apikey:last-used:{id}"


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def signing_secret_generate(*, partner: Partner) -> str:
    """A new signing secret for the partner, returned once to be handed over."""
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    Partner.objects.filter(pk=partner.pk).update(signing_secret=secret, updated_at=timezone.now())
    partner.signing_secret = secret
    return secret


def signing_secret_remove(*, partner: Partner) -> None:
    Partner.objects.filter(pk=partner.pk).update(signing_secret="", updated_at=timezone.now())
    partner.signing_secret = ""


def partner_create(*, slug: str, name: str, rate_limit_per_minute: int | None = None) -> Partner:
    partner = Partner(slug=slug, name=name)
    if rate_limit_per_minute is not None:
        partner.rate_limit_per_minute = rate_limit_per_minute
    partner.full_clean()
    partner.save()
    return partner


def api_key_issue(*, partner: Partner) -> tuple[ApiKey, str]:
    """A new key from the OS's CSPRNG. The raw key is returned once and never stored."""
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_NAMESPACE}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(partner=partner, prefix=prefix, key_hash=api_key_hash(raw_key))
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke at once (authentication reads the database on every request). Idempotent."""
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


@transaction.atomic
def api_key_rotate(
    *, partner: Partner, name: str | None = None, rate_limit_per_minute: int | None = None
) -> tuple[ApiKey, str]:
    """Issue a new key and revoke every other key of the partner, in one transaction
    (optionally renaming the partner or changing its rate limit in the same one)."""
    locked = Partner.objects.select_for_update().get(pk=partner.pk)  # serialise concurrent rotations
    changed = []
    if name is not None and name != locked.name:
        locked.name = name
        changed.append("name")
    if rate_limit_per_minute is not None and rate_limit_per_minute != locked.rate_limit_per_minute:
        locked.rate_limit_per_minute = rate_limit_per_minute
        changed.append("rate_limit_per_minute")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    ApiKey.objects.filter(partner=partner, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return api_key_issue(partner=partner)


_MARK_EVERY = 60.0  # seconds: last use is shown to the minute, no need to write it more often
_marked: dict[int, float] = {}


def api_key_mark_used(*, api_key_id: int) -> None:
    """Remember the last use in the cache (no SQL on the hot path), at most once a minute per
    key and process; api_key_usage_flush copies it to the database every few minutes."""
    now = time.monotonic()
    if _marked.get(api_key_id, 0.0) > now:
        return
    _marked[api_key_id] = now + _MARK_EVERY
    cache.set(_USED_CACHE_KEY.format(id=api_key_id), timezone.now().timestamp(), timeout=7 * 86400)


def api_key_usage_flush() -> int:
    """Copy last-use times from the cache to ApiKey.last_used_at. Safe to run twice."""
    keys = list(ApiKey.objects.filter(revoked_at__isnull=True).only("pk", "last_used_at"))
    seen = cache.get_many([_USED_CACHE_KEY.format(id=k.pk) for k in keys])
    changed = []
    for api_key in keys:
        stamp = seen.get(_USED_CACHE_KEY.format(id=api_key.pk))
        if stamp is None:
            continue
        used_at = datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone())
        if api_key.last_used_at is None or used_at > api_key.last_used_at:
            api_key.last_used_at = used_at
            changed.append(api_key)
    ApiKey.objects.bulk_update(changed, ["last_used_at"])
    return len(changed)
