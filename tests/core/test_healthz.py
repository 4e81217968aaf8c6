from collections.abc import Iterator

import pytest
from django.db import connection


def test_it_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def database_down() -> Iterator[None]:
    """Point the connection at a closed port: a real failed connection, not a mock."""
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port


@pytest.mark.postgresql("a database server that stops answering: SQLite has none to lose")
@pytest.mark.django_db(transaction=True)
def test_it_names_the_database_when_it_is_down(client, database_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failing": ["database"],
        "components": {"database": "unavailable"},
    }


def test_it_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405
