"""Payouts in the admin: the rules on the partner's page (a per-placement rule refused for
an unlicensed partner, naming the rule; the licence kept while such a rule pays), the
statements with their lines, CSV and payment date, the draft lines with their total."""

from datetime import date, datetime

import pytest
import time_machine
from django.test import Client

from accounts.models import Groups, User
from accounts.services import staff_user_create
from leads.models import PartnerStatement, PayoutLine, PayoutRule
from leads.payouts.services import statements_issue
from tests.leads.payouts.helpers import move, rule, send_lead

pytestmark = pytest.mark.django_db


def _manager() -> Client:
    user = staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _partner_form(partner, *, licence: str, rules: list[dict[str, str]]) -> dict[str, str]:
    data = {
        "slug": partner.slug,
        "name": partner.name,
        "is_active": "on",
        "rate_limit_per_minute": "120",
        "placement_licence_number": licence,
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
        "payout_rules-TOTAL_FORMS": str(len(rules)),
        "payout_rules-INITIAL_FORMS": "0",
    }
    for n, values in enumerate(rules):
        data.update({f"payout_rules-{n}-{name}": value for name, value in values.items()})
    return data


PLACEMENT = {"event": "placement", "amount_jpy": "50000", "effective_from": "2027-01-01"}


def test_a_per_placement_rule_is_refused_for_an_unlicensed_partner(partner):
    client = _manager()
    url = f"/admin/leads/partner/{partner.partner.pk}/change/"

    response = client.post(url, _partner_form(partner.partner, licence="", rules=[PLACEMENT]))

    assert response.status_code == 200
    assert (
        "Per-placement pay needs the partner&#x27;s placement business licence number"
        in response.content.decode()
    )
    assert PayoutRule.objects.count() == 0

    response = client.post(url, _partner_form(partner.partner, licence="13-ユ-123456", rules=[PLACEMENT]))
    assert response.status_code == 302
    assert list(PayoutRule.objects.values_list("event", "amount_jpy", "effective_from")) == [
        ("placement", 50000, date(2027, 1, 1))
    ]


def test_the_licence_stays_while_a_per_placement_rule_pays(make_partner):
    partner = make_partner("licensed", placement_licence_number="13-ユ-123456")
    rule(partner.partner, "placement", 50000)
    response = _manager().post(
        f"/admin/leads/partner/{partner.partner.pk}/change/",
        _partner_form(partner.partner, licence="", rules=[]),
    )
    assert response.status_code == 200
    assert "add a rule of ¥0 for placements first" in response.content.decode()
    partner.partner.refresh_from_db()
    assert partner.partner.placement_licence_number == "13-ユ-123456"


def test_statements_lines_csv_and_payment_in_the_admin(partner):
    rule(partner.partner, "lead_accepted", 2000)
    with time_machine.travel(datetime.fromisoformat("2027-01-10T10:00:00+09:00"), tick=True):
        lead = send_lead(partner, external_id="site-42")
    client = _manager()
    drafts = client.get("/admin/leads/payoutline/", {"issued": "no"})
    assert drafts.status_code == 200
    assert "Total of the lines shown: ¥2,000 before tax" in drafts.content.decode()

    with time_machine.travel(datetime.fromisoformat("2027-02-01T09:00:00+09:00"), tick=True):
        (statement,) = statements_issue(month=date(2027, 1, 1)).issued

    listing = client.get("/admin/leads/partnerstatement/")
    assert listing.status_code == 200
    assert statement.number in listing.content.decode()
    page = client.get(f"/admin/leads/partnerstatement/{statement.pk}/change/")
    assert page.status_code == 200
    assert str(lead.pk) in page.content.decode()
    csv = client.get(f"/admin/leads/partnerstatement/{statement.pk}/csv/")
    assert csv.status_code == 200
    assert csv.content.decode("utf-8-sig").splitlines()[1].split(",")[4] == "site-42"

    paid = client.post(
        "/admin/leads/partnerstatement/",
        {"action": "mark_paid_today", "_selected_action": [statement.pk]},
        follow=True,
    )
    assert "1 statements recorded as paid." in paid.content.decode()
    statement.refresh_from_db()
    assert statement.paid_on is not None
    again = client.post(
        "/admin/leads/partnerstatement/",
        {"action": "mark_paid_today", "_selected_action": [statement.pk]},
        follow=True,
    )
    assert "0 statements recorded as paid." in again.content.decode()
    assert PartnerStatement.objects.get().paid_on == statement.paid_on


def test_advisors_see_statements_but_cannot_record_payments(partner):
    user = staff_user_create(email="adv@urakata.example", display_name="Adv", group=Groups.ADVISORS)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    assert client.get("/admin/leads/partnerstatement/").status_code == 200
    assert "mark_paid_today" not in client.get("/admin/leads/partnerstatement/").content.decode()


def _erase(client: Client, candidate_id, *, invalid: bool):
    data = {
        "action": "erase_personal_data",
        "_selected_action": [str(candidate_id)],
        "confirm": "yes",
        "requested_by": "advisor: test data from the partner",
    }
    if invalid:
        data["invalid"] = "yes"
    return client.post("/admin/leads/candidate/", data, follow=True)


@pytest.mark.parametrize(
    ("erased_at", "invalid", "clawed_back"),
    [
        ("2027-02-09T10:00:00+09:00", True, True),  # day 30 after the lead
        ("2027-02-10T10:00:01+09:00", True, False),  # more than 30 days after
        ("2027-02-01T10:00:00+09:00", False, False),  # erased on request: the lead was real
    ],
    ids=["invalid within 30 days", "invalid after 30 days", "on request"],
)
def test_a_paid_lead_erased_as_invalid_within_30_days_is_clawed_back(
    partner, erased_at, invalid, clawed_back
):
    rule(partner.partner, "lead_accepted", 2000)
    with time_machine.travel(datetime.fromisoformat("2027-01-10T10:00:00+09:00"), tick=False):
        lead = send_lead(partner)
    with time_machine.travel(datetime.fromisoformat("2027-02-01T09:00:00+09:00"), tick=False):
        (january,) = statements_issue(month=date(2027, 1, 1)).issued

    with time_machine.travel(datetime.fromisoformat(erased_at), tick=False):
        response = _erase(_manager(), lead.candidate_id, invalid=invalid)
        assert response.status_code == 200
        assert "Personal data erased" in response.content.decode()

    adjustments = list(january.lines.get().adjustments.values_list("kind", "amount_jpy", "reason"))
    assert adjustments == ([("clawback", -2000, "invalid")] if clawed_back else [])


def test_the_managers_dashboard_shows_each_partners_cost_per_outcome_next_to_its_funnel(
    partner, make_partner
):
    rule(partner.partner, "lead_accepted", 1000)
    rule(partner.partner, "consultation_held", 2000)
    unpaid = make_partner("unpaid-site")  # credited leads, no rule: not in the chart
    boss = staff_user_create(email="roi@urakata.example", display_name="Roi", group=Groups.MANAGERS)
    with time_machine.travel(datetime.fromisoformat("2027-01-10T10:00:00+09:00"), tick=True):
        first = send_lead(partner)
        send_lead(partner)
        send_lead(unpaid)
        move(boss, first, "consulted")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(boss)

    html = client.get("/admin/leads/candidate/dashboard/").content.decode()

    section = html.split('id="dashboard-roi"')[1].split("</section>")[0]
    assert f"{partner.partner.name}: ¥4,000 before tax" in section
    assert (
        "Credited leads 2, ¥2,000 per lead; Consultations held 1, ¥4,000 per consultation; "
        "Placements 0, — per placement" in section
    )
    assert unpaid.partner.name not in section


def test_advisors_do_not_see_what_partners_cost(partner):
    user = staff_user_create(email="adv2@urakata.example", display_name="Adv", group=Groups.ADVISORS)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    assert 'id="dashboard-roi"' not in client.get("/admin/leads/candidate/dashboard/").content.decode()


def test_a_manager_corrects_an_issued_line_and_the_correction_goes_on_the_next_statement(partner):
    rule(partner.partner, "lead_accepted", 2000)
    with time_machine.travel(datetime.fromisoformat("2027-01-10T10:00:00+09:00"), tick=False):
        send_lead(partner)
    with time_machine.travel(datetime.fromisoformat("2027-02-01T09:00:00+09:00"), tick=False):
        (january,) = statements_issue(month=date(2027, 1, 1)).issued
    line = january.lines.get()
    client = _manager()
    action = {"action": "correct", "_selected_action": [line.pk]}

    form = client.post("/admin/leads/payoutline/", action)
    assert form.status_code == 200
    assert 'name="amount_jpy"' in form.content.decode()
    for bad in ("0", "abc", ""):
        refused = client.post("/admin/leads/payoutline/", {**action, "amount_jpy": bad})
        assert refused.status_code == 400, bad
    with time_machine.travel(datetime.fromisoformat("2027-02-15T10:00:00+09:00"), tick=True):
        client.force_login(User.objects.get(email="boss@urakata.example"))  # a session of that day
        done = client.post("/admin/leads/payoutline/", {**action, "amount_jpy": "-500"}, follow=True)
    assert "Correction of ¥-500 recorded" in done.content.decode()
    with time_machine.travel(datetime.fromisoformat("2027-03-01T09:00:00+09:00"), tick=False):
        (february,) = statements_issue(month=date(2027, 2, 1)).issued

    assert list(february.lines.values_list("kind", "amount_jpy", "adjusts_id", "reason")) == [
        ("correction", -500, line.pk, "manual")
    ]
    assert (february.subtotal_jpy, february.tax_jpy, february.total_jpy) == (-500, -50, -550)


def test_only_an_issued_line_can_be_corrected(partner):
    rule(partner.partner, "lead_accepted", 2000)
    send_lead(partner)
    draft = PayoutLine.objects.get()
    response = _manager().post(
        "/admin/leads/payoutline/", {"action": "correct", "_selected_action": [draft.pk]}, follow=True
    )
    assert "Choose exactly one line of an issued statement." in response.content.decode()
    assert PayoutLine.objects.count() == 1
