"""Availability in the admin: an advisor sees, adds, changes and deletes only their own weekly
hours and date overrides (the advisor field is fixed to them); managers handle everyone's."""

from datetime import date, time

import pytest
from django.test import Client

from accounts.models import Groups
from accounts.services import staff_user_create
from consultations.models import AvailabilityOverride, WeeklyAvailability

pytestmark = pytest.mark.django_db

WEEKLY = "/admin/consultations/weeklyavailability/"
OVERRIDES = "/admin/consultations/availabilityoverride/"


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def me(advisors):
    return advisors[0]


@pytest.fixture
def other(advisors):
    return advisors[1]


@pytest.fixture
def client(me):
    return _client(me)


@pytest.fixture
def manager(make_advisor):  # make_advisor recreates the groups
    return staff_user_create(email="manager@urakata.example", display_name="Manager", group=Groups.MANAGERS)


@pytest.fixture
def others_override(other):
    return AvailabilityOverride.objects.create(advisor=other, date=date(2026, 11, 27), kind="day_off")


def _listed(response):
    return sorted((row.advisor_id, str(row)) for row in response.context["cl"].result_list)


def test_an_advisor_lists_only_their_own_weekly_hours(client, me, other):
    response = client.get(WEEKLY)

    assert response.status_code == 200
    assert {advisor_id for advisor_id, _ in _listed(response)} == {me.pk}
    assert response.context["cl"].result_count == 5  # the default week, Monday to Friday


def test_an_advisor_cannot_open_change_or_delete_another_advisors_hours(client, other):
    window = WeeklyAvailability.objects.filter(advisor=other).order_by("weekday")[0]
    url = f"{WEEKLY}{window.pk}/change/"

    opened = client.get(url)
    changed = client.post(
        url, {"advisor": other.pk, "weekday": 0, "start_time": "06:00", "end_time": "23:00"}
    )
    deleted = client.post(f"{WEEKLY}{window.pk}/delete/", {"post": "yes"})

    # Outside the advisor's queryset: the admin answers as for a missing object.
    assert [opened.status_code, changed.status_code, deleted.status_code] == [302, 302, 302]
    assert opened["Location"] == "/admin/"
    window.refresh_from_db()
    assert (window.start_time, window.end_time) == (time(10), time(19))


def test_an_advisor_changes_their_own_hours(client, me):
    window = WeeklyAvailability.objects.get(advisor=me, weekday=0)

    response = client.post(
        f"{WEEKLY}{window.pk}/change/",
        {"advisor": me.pk, "weekday": 0, "start_time": "09:00", "end_time": "17:00"},
    )

    assert response.status_code == 302
    window.refresh_from_db()
    assert (window.advisor_id, window.start_time, window.end_time) == (me.pk, time(9), time(17))


def test_the_add_form_offers_only_the_advisor_themselves(client, me, other):
    response = client.get(f"{OVERRIDES}add/", {"advisor": other.pk})  # a prefilled other advisor

    field = response.context["adminform"].form.fields["advisor"]
    assert response.status_code == 200
    assert field.disabled is True
    assert list(field.queryset) == [me]
    assert response.context["adminform"].form.initial["advisor"] == str(me.pk)


def test_a_forged_advisor_in_an_add_is_ignored(client, me, other):
    response = client.post(
        f"{OVERRIDES}add/",
        {
            "advisor": other.pk,
            "date": "2026-11-30",
            "kind": "extra",
            "start_time": "19:00",
            "end_time": "21:00",
        },
    )

    assert response.status_code == 302
    override = AvailabilityOverride.objects.get()
    assert (override.advisor_id, override.kind, override.start_time) == (me.pk, "extra", time(19))


def test_an_advisor_cannot_touch_another_advisors_override(client, others_override):
    url = f"{OVERRIDES}{others_override.pk}/change/"

    listed = client.get(OVERRIDES)
    changed = client.post(url, {"advisor": others_override.advisor_id, "date": "2026-11-27", "kind": "extra"})
    deleted = client.post(f"{OVERRIDES}{others_override.pk}/delete/", {"post": "yes"})

    assert listed.context["cl"].result_count == 0
    assert (changed.status_code, deleted.status_code) == (302, 302)
    others_override.refresh_from_db()
    assert others_override.kind == "day_off"


def test_a_bulk_delete_by_an_advisor_spares_other_advisors_rows(client, me, other):
    theirs = list(WeeklyAvailability.objects.filter(advisor=other).values_list("pk", flat=True))
    mine = list(WeeklyAvailability.objects.filter(advisor=me).values_list("pk", flat=True))

    client.post(WEEKLY, {"action": "delete_selected", "_selected_action": [*theirs, mine[0]], "post": "yes"})

    assert WeeklyAvailability.objects.filter(advisor=other).count() == 5
    assert WeeklyAvailability.objects.filter(advisor=me).count() == 4


def test_the_advisor_filter_is_only_for_managers(client, manager):
    mine = client.get(WEEKLY)
    everyone = _client(manager).get(WEEKLY)

    assert [f.title for f in mine.context["cl"].filter_specs] == ["weekday"]
    assert [f.title for f in everyone.context["cl"].filter_specs] == ["weekday", "advisor"]


def test_a_manager_sees_and_edits_everyones_availability(manager, me, other, others_override):
    client = _client(manager)

    listed = client.get(WEEKLY)
    added = client.post(f"{OVERRIDES}add/", {"advisor": me.pk, "date": "2026-12-01", "kind": "day_off"})
    changed = client.post(
        f"{OVERRIDES}{others_override.pk}/change/",
        {
            "advisor": other.pk,
            "date": "2026-11-27",
            "kind": "extra",
            "start_time": "10:00",
            "end_time": "12:00",
        },
    )
    form = client.get(f"{OVERRIDES}add/").context["adminform"].form

    assert listed.context["cl"].result_count == 10
    assert (added.status_code, changed.status_code) == (302, 302)
    assert AvailabilityOverride.objects.filter(advisor=me, date=date(2026, 12, 1), kind="day_off").exists()
    others_override.refresh_from_db()
    assert others_override.kind == "extra"
    # Managers choose among the active advisors, not among every staff user.
    assert set(form.fields["advisor"].queryset) == {me, other}


@pytest.mark.parametrize("advisor_count", [2, 5])
def test_an_advisors_list_costs_the_same_whatever_the_number_of_advisors(
    make_advisor, django_assert_num_queries, advisor_count
):
    me, *_ = [make_advisor() for _ in range(advisor_count)]
    client = _client(me)
    client.get(WEEKLY)  # warm the per-process caches (content types)

    # session, user, user permissions, group permissions, is the user a manager, count of
    # the advisor's rows (filtered and in all: the same queryset), the page.
    with django_assert_num_queries(8):
        response = client.get(WEEKLY)

    assert response.context["cl"].result_count == 5
