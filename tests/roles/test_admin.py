import json

import pytest
from django.contrib.auth.models import Group

from accounts.models import Groups, User
from roles.models import Certification, JobPosting, Role
from roles.selectors import certification_codes, role_slugs_active
from tests.roles.factories import CertificationFactory, EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(
        User.objects.create_superuser(email="boss@example.com", password="x", display_name="Boss")
    )
    return client


@pytest.fixture
def advisor_client(client):
    advisor = User.objects.create_user(
        email="advisor@example.com", password="x", display_name="佐藤", is_staff=True
    )
    advisor.groups.add(Group.objects.get(name=Groups.ADVISORS))
    client.force_login(advisor)
    return client


def _role_form(role: Role, **changes: object) -> dict[str, object]:
    form = {
        "slug": role.slug,
        "name_ja": role.name_ja,
        "name_en": role.name_en,
        "summary": role.summary,
        "typical_tasks": json.dumps(role.typical_tasks, ensure_ascii=False),
        "recommended_certifications": [c.pk for c in role.recommended_certifications.all()],
        "annual_salary_min": role.annual_salary_min,
        "annual_salary_max": role.annual_salary_max,
        "sort_order": role.sort_order,
        "is_active": "on",
    }
    if role.experience_preferred:
        form["experience_preferred"] = "on"
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_it_renders_every_roles_screen_for_a_superuser(superuser_client):
    employer = EmployerFactory.create()
    posting = JobPostingFactory.create(employer=employer)
    pages = [
        "/admin/roles/role/",
        f"/admin/roles/role/{Role.objects.get(slug='accounting').pk}/change/",
        "/admin/roles/certification/",
        "/admin/roles/certification/add/",
        "/admin/roles/employer/",
        f"/admin/roles/employer/{employer.pk}/change/",
        "/admin/roles/jobposting/",
        "/admin/roles/jobposting/add/",
        f"/admin/roles/jobposting/{posting.pk}/change/",
        "/admin/roles/jobposting/?status__exact=open&inexperienced_welcome__exact=1",
        "/admin/roles/jobposting/?q=%E7%B5%8C%E7%90%86",
    ]

    statuses = {page: superuser_client.get(page).status_code for page in pages}

    assert statuses == dict.fromkeys(pages, 200)


def test_it_shows_an_employers_postings_read_only(superuser_client):
    employer = EmployerFactory.create()
    JobPostingFactory.create(employer=employer, title="経理アシスタント（デモ）")

    page = superuser_client.get(f"/admin/roles/employer/{employer.pk}/change/").content.decode()

    assert "経理アシスタント（デモ）" in page
    assert 'name="postings-0-title"' not in page  # shown, not editable


def test_it_lists_postings_in_a_constant_number_of_queries(superuser_client, django_assert_num_queries):
    JobPostingFactory.create_batch(30)

    # 1. session, 2. user, 3. the roles for the role filter, 4.-5. the filtered and total counts,
    # 6. the page of postings joined with employer and role (list_select_related),
    # 7.-8. date_hierarchy: first/last dates, then the distinct days. Nothing per row.
    with django_assert_num_queries(8):
        response = superuser_client.get("/admin/roles/jobposting/")

    assert response.status_code == 200


def test_it_lets_an_advisor_keep_postings_but_not_delete_them(advisor_client):
    posting = JobPostingFactory.create()

    assert advisor_client.get("/admin/roles/jobposting/").status_code == 200
    assert advisor_client.get("/admin/roles/employer/add/").status_code == 200
    assert advisor_client.get(f"/admin/roles/jobposting/{posting.pk}/change/").status_code == 200
    assert advisor_client.get(f"/admin/roles/jobposting/{posting.pk}/delete/").status_code == 403
    assert advisor_client.get("/admin/roles/role/add/").status_code == 403
    assert (
        advisor_client.post(f"/admin/roles/jobposting/{posting.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert JobPosting.objects.filter(pk=posting.pk).exists()


def test_it_invalidates_the_cached_slugs_when_a_role_is_saved_in_the_admin(
    superuser_client, django_capture_on_commit_callbacks
):
    assert "legal" in role_slugs_active()  # now cached
    legal = Role.objects.get(slug="legal")

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            f"/admin/roles/role/{legal.pk}/change/", _role_form(legal, is_active=None)
        )

    assert response.status_code == 302
    assert Role.objects.get(slug="legal").is_active is False
    assert "legal" not in role_slugs_active()


def test_it_invalidates_the_cached_codes_when_a_certification_is_added(
    superuser_client, django_capture_on_commit_callbacks
):
    assert "kyuyo_keisan" not in certification_codes()  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            "/admin/roles/certification/add/",
            {
                "code": "kyuyo_keisan",
                "name": "給与計算実務能力検定2級",
                "name_en": "Payroll Practice Test, Grade 2",
                "issuer": "一般財団法人 職業技能振興会",
                "family": "kyuyo",
                "level": "2級",
                "sort_order": 35,
            },
        )

    assert response.status_code == 302
    assert "kyuyo_keisan" in certification_codes()


def test_it_invalidates_the_cached_codes_when_certifications_are_deleted(
    superuser_client, django_capture_on_commit_callbacks
):
    one, other = CertificationFactory.create(code="old_one"), CertificationFactory.create(code="old_other")
    assert {"old_one", "old_other"} <= certification_codes()

    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(f"/admin/roles/certification/{one.pk}/delete/", {"post": "yes"})
    assert "old_one" not in certification_codes()

    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(
            "/admin/roles/certification/",
            {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
        )
    assert "old_other" not in certification_codes()
    assert not Certification.objects.filter(code__in=["old_one", "old_other"]).exists()
