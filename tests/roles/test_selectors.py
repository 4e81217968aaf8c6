import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from roles.models import JobPosting, Role
from roles.selectors import (
    CERTIFICATION_CODES_CACHE_KEY,
    ROLE_SLUGS_CACHE_KEY,
    certification_codes,
    role_get,
    role_list,
    role_slugs_active,
)
from roles.services import catalogue_cache_invalidate
from tests.roles.factories import CertificationFactory, JobPostingFactory, RoleFactory

pytestmark = pytest.mark.django_db

CATALOGUE_SLUGS = {"accounting", "hr", "general_affairs", "legal", "sales_admin", "general_admin"}
Status = JobPosting.Status
SHARE = "inexperienced_welcome_share"  # role_list's annotation


def _share(slug):
    return {role.slug: getattr(role, SHARE) for role in role_list()}[slug]


def test_it_computes_the_share_of_open_postings_welcoming_newcomers():
    role = RoleFactory.create()
    JobPostingFactory.create_batch(2, role=role, inexperienced_welcome=True)
    JobPostingFactory.create(role=role, inexperienced_welcome=False)

    assert _share(role.slug) == pytest.approx(2 / 3)


def test_it_ignores_postings_that_are_not_open():
    role = RoleFactory.create()
    JobPostingFactory.create(role=role, inexperienced_welcome=False)
    for status in (Status.DRAFT, Status.PAUSED, Status.CLOSED):
        JobPostingFactory.create(role=role, inexperienced_welcome=True, status=status)

    assert _share(role.slug) == 0.0


def test_it_gives_no_share_without_an_open_posting():
    role = RoleFactory.create()
    JobPostingFactory.create(role=role, inexperienced_welcome=True, status=Status.PAUSED)

    assert _share(role.slug) is None
    assert _share("legal") is None


def test_it_counts_each_role_apart():
    welcoming, demanding = RoleFactory.create(), RoleFactory.create()
    JobPostingFactory.create(role=welcoming, inexperienced_welcome=True)
    JobPostingFactory.create(role=demanding, inexperienced_welcome=False)

    assert (_share(welcoming.slug), _share(demanding.slug)) == (1.0, 0.0)


def test_it_lists_only_active_roles_in_catalogue_order():
    RoleFactory.create(slug="retired", is_active=False)
    first = RoleFactory.create(slug="zz_first", sort_order=1)

    slugs = [role.slug for role in role_list()]

    assert slugs == [
        first.slug,
        "accounting",
        "hr",
        "general_affairs",
        "legal",
        "sales_admin",
        "general_admin",
    ]


def test_it_gets_an_active_role_only():
    RoleFactory.create(slug="retired", is_active=False)

    role = role_get(slug="accounting")

    assert role is not None
    assert role.name_ja == "経理"
    assert role_get(slug="retired") is None
    assert role_get(slug="no-such-role") is None


def test_it_caches_the_active_role_slugs(django_assert_num_queries):
    RoleFactory.create(slug="retired", is_active=False)
    with django_assert_num_queries(1):  # the active slugs, once
        first = role_slugs_active()

    with django_assert_num_queries(0):  # every lead after that: the cache only
        second = role_slugs_active()

    assert first == second == frozenset(CATALOGUE_SLUGS)
    assert cache.get(ROLE_SLUGS_CACHE_KEY) == sorted(CATALOGUE_SLUGS)


def test_it_caches_the_certification_codes(django_assert_num_queries):
    with django_assert_num_queries(1):
        first = certification_codes()

    with django_assert_num_queries(0):
        second = certification_codes()

    assert first == second
    assert {"boki_2", "mos_excel", "sharoushi", "it_passport"} <= first
    assert len(first) == 14


def test_it_keeps_serving_the_cached_slugs_until_invalidated(django_capture_on_commit_callbacks):
    role_slugs_active()
    certification_codes()
    RoleFactory.create(slug="payroll")  # written behind the cache's back (shell, data migration)
    CertificationFactory.create(code="kyuyo_keisan")

    assert "payroll" not in role_slugs_active()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        catalogue_cache_invalidate()
        assert cache.get(ROLE_SLUGS_CACHE_KEY) is not None  # not before the commit

    assert len(callbacks) == 1
    assert cache.get(ROLE_SLUGS_CACHE_KEY) is None
    assert cache.get(CERTIFICATION_CODES_CACHE_KEY) is None
    assert "payroll" in role_slugs_active()
    assert "kyuyo_keisan" in certification_codes()


def test_it_reads_the_database_when_the_cache_is_down(monkeypatch, caplog):
    class DownCache:
        def get(self, key):
            raise RedisConnectionError("connection refused")

        def set(self, key, value, timeout=None):
            raise RedisConnectionError("connection refused")

    monkeypatch.setattr("roles.selectors.cache", DownCache())

    assert role_slugs_active() == frozenset(CATALOGUE_SLUGS)
    assert len(certification_codes()) == 14
    assert "roles: cache unavailable for roles:active-role-slugs:v1 (ConnectionError)" in caplog.messages


def test_it_drops_a_deactivated_role_once_invalidated(django_capture_on_commit_callbacks):
    role_slugs_active()
    Role.objects.filter(slug="legal").update(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        catalogue_cache_invalidate()

    assert role_slugs_active() == frozenset(CATALOGUE_SLUGS - {"legal"})
