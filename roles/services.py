import logging
from collections.abc import Sequence
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from roles.models import Certification, Employer, JobPosting, Role
from roles.selectors import CATALOGUE_CACHE_KEYS, catalogue_local_forget

logger = logging.getLogger(__name__)


def _catalogue_cache_delete() -> None:
    catalogue_local_forget()
    try:
        cache.delete_many(CATALOGUE_CACHE_KEYS)
    except RedisError as exc:  # the cache timeout still bounds how long the old values live
        logger.warning("roles: could not invalidate the catalogue cache (%s)", type(exc).__name__)


def catalogue_cache_invalidate() -> None:
    """Forget the cached role slugs and certification codes once the current transaction
    commits. Deleting before the commit would let a concurrent request cache the old rows
    again in the meantime."""
    transaction.on_commit(_catalogue_cache_delete)


def employer_create(
    *,
    name: str,
    fee_rate_percent: Decimal,
    name_kana: str = "",
    prefecture: str = "",
    industry: str = "",
    fee_notes: str = "",
    is_active: bool = True,
) -> Employer:
    employer = Employer(
        name=name,
        name_kana=name_kana,
        prefecture=prefecture,
        industry=industry,
        fee_rate_percent=fee_rate_percent,
        fee_notes=fee_notes,
        is_active=is_active,
    )
    employer.full_clean()
    employer.save()
    return employer


@transaction.atomic
def job_posting_create(
    *,
    employer: Employer,
    role: Role,
    title: str,
    description: str,
    salary_min: int,
    salary_max: int,
    prefecture: str = "",
    remote: str = JobPosting.Remote.NONE,
    employment_type: str = JobPosting.EmploymentType.FULL_TIME,
    inexperienced_welcome: bool = False,
    experience_preferred: bool = False,
    required_certifications: Sequence[Certification] = (),
    preferred_certifications: Sequence[Certification] = (),
    pc_skills: Sequence[str] = (),
    weekends_holidays_off: bool = False,
    annual_holidays: int | None = None,
    avg_monthly_overtime_hours: int | None = None,
    status: str = JobPosting.Status.DRAFT,
) -> JobPosting:
    posting = JobPosting(
        employer=employer,
        role=role,
        title=title,
        description=description,
        salary_min=salary_min,
        salary_max=salary_max,
        prefecture=prefecture,
        remote=remote,
        employment_type=employment_type,
        inexperienced_welcome=inexperienced_welcome,
        experience_preferred=experience_preferred,
        pc_skills=list(pc_skills),
        weekends_holidays_off=weekends_holidays_off,
        annual_holidays=annual_holidays,
        avg_monthly_overtime_hours=avg_monthly_overtime_hours,
        status=status,
    )
    posting.full_clean()
    posting.save()
    posting.required_certifications.set(required_certifications)
    posting.preferred_certifications.set(preferred_certifications)
    return posting
