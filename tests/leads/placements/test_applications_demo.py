"""Demo applications (leads.placements.demo, for seed_demo): through the real services, once."""

import pytest

from demo.services import SeedReport, demo_advisors_ensure, demo_candidates_ensure
from leads.models import Application, Candidate, InterviewRound, Invoice, Placement
from leads.placements.demo import demo_applications_seed
from roles.demo import demo_employers_seed

pytestmark = pytest.mark.django_db


def test_it_gives_the_demo_candidates_applications_at_every_stage_once():
    report = SeedReport()
    demo_advisors_ensure(report=report)
    demo_employers_seed(report=report)
    demo_candidates_ensure(report=report)

    demo_applications_seed(report=report)
    again = SeedReport()
    demo_applications_seed(report=again)

    stages = dict(Application.objects.values_list("candidate__email", "stage"))
    assert stages == {
        "hina.takahashi@demo.urakata.example": "recommended",
        "ren.ito@demo.urakata.example": "interview",
        "yui.watanabe@demo.urakata.example": "offer",
        "sakura.nakamura@demo.urakata.example": "accepted",
        "daiki.kobayashi@demo.urakata.example": "accepted",
    }
    # 山本 wants general affairs, whose demo posting is paused: no application.
    assert (report.created["applications"], again.created["applications"]) == (5, 0)
    assert InterviewRound.objects.count() == 4  # one each for interview, offer and the two accepted
    placement = Placement.objects.get(application__candidate__email="sakura.nakamura@demo.urakata.example")
    assert placement.fee_jpy > 0
    placed = Candidate.objects.get(email="sakura.nakamura@demo.urakata.example")
    assert (placed.stage, placed.partner_status) == ("placed", "placed")
    # Both placements started last month: invoiced; the one who left on day 20 has a credit note.
    assert (report.created["invoices and credit notes"], again.created["invoices and credit notes"]) == (3, 0)
    leaver = Placement.objects.get(application__candidate__email="daiki.kobayashi@demo.urakata.example")
    invoice = Invoice.objects.get(placement=leaver, kind="invoice")
    credit_note = Invoice.objects.get(placement=leaver, kind="credit_note")
    assert (leaver.refund_jpy, credit_note.credited_invoice) == (leaver.fee_jpy * 80 // 100, invoice)
    assert Invoice.objects.filter(placement=placement, kind="invoice").count() == 1
