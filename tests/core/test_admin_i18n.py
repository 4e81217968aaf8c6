import pytest
from django.test import Client

from accounts.models import User


def test_it_shows_the_admin_login_in_japanese_by_default(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert '<html lang="ja"' in response.content.decode()
    assert "ログイン" in response.content.decode()


def test_it_switches_the_admin_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/admin/login/"}, follow=True)

    assert response.status_code == 200
    assert '<html lang="en"' in response.content.decode()
    assert "Log in" in response.content.decode()


@pytest.mark.django_db
def test_it_locks_an_admin_login_after_five_failures():
    User.objects.create_superuser(
        email="boss@example.com", password="right-password-123", display_name="Boss"
    )
    client = Client()

    for _ in range(5):
        response = client.post("/admin/login/", {"username": "boss@example.com", "password": "wrong"})
        assert response.status_code in (200, 429)
    response = client.post(
        "/admin/login/", {"username": "boss@example.com", "password": "right-password-123"}
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_it_lets_a_staff_user_in_with_the_right_password():
    User.objects.create_superuser(
        email="boss@example.com", password="right-password-123", display_name="Boss"
    )
    client = Client()

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss@example.com", "password": "right-password-123"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
