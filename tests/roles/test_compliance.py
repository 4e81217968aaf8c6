"""Japan's placement rules as the database enforces them: no age limit without a recorded
legal ground, and no field anywhere for what an employer may not screen on."""

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import User
from roles.models import JobPosting
from tests.roles.factories import JobPostingFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"age_max": 35},
        {"age_max": 35, "age_limit_exception": "3a"},  # a ground but no reason
        {"age_limit_exception": "1", "age_limit_reason": "定年60歳"},  # a ground without a limit
        {"age_min": 40, "age_max": 30, "age_limit_exception": "3b", "age_limit_reason": "x"},
    ],
)
def test_an_age_limit_without_its_legal_ground_is_refused(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        JobPostingFactory.create(**fields)


def test_an_age_limit_with_its_ground_and_reason_is_accepted():
    posting = JobPostingFactory.create(
        age_max=34,
        age_limit_exception="3a",
        age_limit_reason="長期勤続によるキャリア形成のため、35歳未満を対象",
    )

    assert JobPosting.objects.get(pk=posting.pk).get_age_limit_exception_display().startswith("3号イ")


def test_the_admin_explains_the_refusal_in_japanese():
    admin = User.objects.create_superuser(email="boss@example.com", password="x" * 12, display_name="Boss")
    posting = JobPostingFactory.create()
    client = Client()
    client.force_login(admin)
    url = f"/admin/roles/jobposting/{posting.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {"age_max": "35", "pc_skills": "[]", "required_certifications": [], "preferred_certifications": []}
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert "年齢制限には法令上の根拠" in response.content.decode()
    assert JobPosting.objects.get(pk=posting.pk).age_max is None


PROHIBITED = (
    "honseki",
    "birthplace",
    "hometown",
    "religion",
    "belief",
    "union",
    "political",
    "family_origin",
)


def test_no_model_has_a_field_for_prohibited_data():
    names = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "roles", "leads", "consultations"}
        for field in model._meta.get_fields()
        if any(word in field.name.lower() for word in PROHIBITED)
    ]
    assert names == []
