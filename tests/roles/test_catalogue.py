"""After `migrate` the catalogue exists (data migration 0002) and the staff groups hold their
permissions (0003). The test database is built by running the migrations."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from roles.catalogue import CERTIFICATIONS, ROLES
from roles.models import Certification, Role

pytestmark = pytest.mark.django_db

CATALOGUE_SLUGS = ["accounting", "hr", "general_affairs", "legal", "sales_admin", "general_admin"]


def _recommended(role: Role) -> list[str]:
    return list(role.recommended_certifications.order_by("sort_order").values_list("code", flat=True))


def test_it_has_the_six_roles_after_migrate():
    roles = list(Role.objects.order_by("sort_order").values_list("slug", "name_ja", "is_active"))

    assert roles == [
        ("accounting", "経理", True),
        ("hr", "人事", True),
        ("general_affairs", "総務", True),
        ("legal", "法務", True),
        ("sales_admin", "営業事務", True),
        ("general_admin", "一般事務", True),
    ]


def test_it_links_each_role_to_its_certifications():
    recommended = {role.slug: _recommended(role) for role in Role.objects.all()}

    assert recommended == {
        "accounting": ["boki_3", "boki_2", "boki_1", "mos_excel"],
        "hr": ["mos_excel", "sharoushi"],
        "general_affairs": ["mos_word", "mos_excel", "hisho_2"],
        "legal": ["bizhoumu_3", "bizhoumu_2"],
        "sales_admin": ["mos_word", "mos_excel", "mos_powerpoint"],
        "general_admin": ["mos_word", "mos_excel", "hisho_3", "it_passport"],
    }


def test_it_has_the_certifications_after_migrate():
    codes = list(Certification.objects.order_by("sort_order").values_list("code", flat=True))

    assert codes == [
        "boki_3",
        "boki_2",
        "boki_1",
        "mos_word",
        "mos_excel",
        "mos_powerpoint",
        "mos_expert_word",
        "mos_expert_excel",
        "sharoushi",
        "bizhoumu_3",
        "bizhoumu_2",
        "hisho_3",
        "hisho_2",
        "it_passport",
    ]


def test_it_favours_experience_where_the_domain_says_so():
    preferred = set(Role.objects.filter(experience_preferred=True).values_list("slug", flat=True))

    assert preferred == {"accounting", "hr", "legal"}


def test_the_migrated_catalogue_matches_roles_catalogue():
    # A change to roles/catalogue.py must come with a data migration carrying the new copy.
    certifications = [
        dict(row)
        for row in Certification.objects.order_by("sort_order").values(
            "code", "name", "name_en", "issuer", "family", "level", "sort_order"
        )
    ]
    roles = [
        {
            "slug": role.slug,
            "name_ja": role.name_ja,
            "name_en": role.name_en,
            "summary": role.summary,
            "typical_tasks": role.typical_tasks,
            "certifications": list(
                role.recommended_certifications.order_by("sort_order").values_list("code", flat=True)
            ),
            "annual_salary_min": role.annual_salary_min,
            "annual_salary_max": role.annual_salary_max,
            "experience_preferred": role.experience_preferred,
            "sort_order": role.sort_order,
        }
        for role in Role.objects.filter(slug__in=CATALOGUE_SLUGS).order_by("sort_order")
    ]

    assert certifications == [dict(c) for c in CERTIFICATIONS]
    assert roles == [
        {**role, "certifications": sorted(role["certifications"], key=_sort_order)} for role in ROLES
    ]


def _sort_order(code: str) -> int:
    return next(c["sort_order"] for c in CERTIFICATIONS if c["code"] == code)


def test_it_can_run_the_catalogue_migration_again_without_duplicates():
    migration = importlib.import_module("roles.migrations.0002_catalogue")
    Role.objects.filter(slug="legal").update(annual_salary_min=1, annual_salary_max=2)
    Role.objects.get(slug="hr").recommended_certifications.clear()

    migration.load_catalogue(apps, None)
    migration.load_catalogue(apps, None)

    assert Role.objects.count() == 6
    assert Certification.objects.count() == 14
    legal = Role.objects.get(slug="legal")
    assert (legal.annual_salary_min, legal.annual_salary_max) == (3_800_000, 6_500_000)
    assert _recommended(Role.objects.get(slug="hr")) == ["mos_excel", "sharoushi"]


def _codenames(group: str) -> set[str]:
    return set(
        Group.objects.get(name=group)
        .permissions.filter(content_type__app_label="roles")
        .values_list("codename", flat=True)
    )


def test_it_lets_advisors_read_the_catalogue_and_keep_postings():
    assert _codenames("Advisors") == {
        "view_role",
        "view_certification",
        "view_employer",
        "add_employer",
        "change_employer",
        "view_jobposting",
        "add_jobposting",
        "change_jobposting",
        "view_employerfeeterms",
    }


def test_it_gives_managers_every_roles_permission():
    assert _codenames("Managers") == {
        f"{action}_{model}"
        for model in ("role", "certification", "employer", "jobposting")
        for action in ("view", "add", "change", "delete")
    } | {"view_employerfeeterms", "add_employerfeeterms"}  # fee terms: new versions, never edits
