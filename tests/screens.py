"""Helpers of the screens walk (tests/test_screens_walk.py): a small but complete data set
made through the services, and a walker that requests each URL, compares its status with
what the permissions say, and collects every mismatch instead of stopping at the first.

No date is written down: everything is computed from `timezone.now()`, so the walk passes on
the moved clock too (tests/clock.py)."""

import html
import itertools
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import time_machine
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import Groups, User
from accounts.services import staff_user_create
from consultations.models import AvailabilityOverride, Booking, ConsultationKind
from consultations.selectors import slots_for_range
from consultations.services import (
    advisor_onboard,
    booking_cancel,
    booking_create,
    booking_mark_no_show,
    booking_record_outcome,
)
from core.business_time import BUSINESS_TZ
from core.models import OutboxMessage
from leads.audit import Channel
from leads.candidates.followups import followup_task_complete, followup_task_create, followup_task_snooze
from leads.candidates.merge import candidate_merge
from leads.candidates.pipeline import candidate_call_log, candidate_close
from leads.candidates.profile import candidate_assign
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import (
    Application,
    Candidate,
    CandidateCertification,
    Partner,
    PayoutRule,
    WebhookDelivery,
    WebhookEndpoint,
    WorkHistoryEntry,
)
from leads.partners.keys import api_key_issue, api_key_revoke, partner_create, signing_secret_generate
from leads.partners.webhook_delivery import webhook_dispatch
from leads.partners.webhooks import webhook_endpoint_create
from leads.payouts.services import month_bounds, statements_issue
from leads.placements.fees import placement_record_leaving
from leads.placements.services import (
    application_accept,
    application_create,
    application_transition,
    employer_reveal,
    interview_round_schedule,
)
from leads.privacy.consent import candidate_withdraw_consent
from leads.privacy.records import person_erase
from roles.models import Certification, EmployerFeeTerms, JobPosting, Role
from tests.roles.factories import EmployerFactory, JobPostingFactory

PROJECT = str(Path(__file__).resolve().parent.parent)
FAMILY_NAME, FAMILY_KANA = "山田", "ヤマダ"
_numbers = itertools.count(1)


# --- the walker ---------------------------------------------------------------------------


def as_request(user: User) -> HttpRequest:
    """A request of `user` to ask a ModelAdmin what it allows (a fresh one each time: the
    workspace caches per request whether the user is a manager)."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _where(exc: BaseException) -> str:
    """The innermost frame of the project's own code (not the libraries', not the tests')."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(PROJECT)
        and "/.venv/" not in frame.filename
        and "/tests/" not in frame.filename
    ]
    if not frames:
        return "outside the project"
    frame = frames[-1]
    return f"{frame.filename[len(PROJECT) + 1 :]}:{frame.lineno} ({frame.line})"


@dataclass
class Walker:
    """Requests URLs as one browser and records every answer that is not the expected one.
    Each request runs in a savepoint, so that a failed query does not break the rest of
    the walk on PostgreSQL."""

    client: Client
    failures: list[str] = field(default_factory=list)
    walked: int = 0

    def get(self, url: str, expect: int | Iterable[int]) -> Any:
        return self.request("GET", url, expect)

    def post(
        self,
        url: str,
        data: Mapping[str, Any],
        expect: int | Iterable[int],
        explain: Callable[[Any], str] | None = None,
    ) -> Any:
        return self.request("POST", url, expect, data, explain)

    def request(
        self,
        method: str,
        url: str,
        expect: int | Iterable[int],
        data: Mapping[str, Any] | None = None,
        explain: Callable[[Any], str] | None = None,
    ) -> Any:
        """`explain` says why an unexpected answer came (a form's errors, say)."""
        expected = {expect} if isinstance(expect, int) else set(expect)
        body = str(dict(data or {}))
        shown = f"{method} {url}" + (f" {body}" if len(body) < 300 else f" ({len(data or {})} fields)")
        shown = shown.removesuffix(" {}")
        self.walked += 1
        send = self.client.get if method == "GET" else self.client.post
        try:
            with transaction.atomic():
                response = send(url, data or {})
                if isinstance(response, StreamingHttpResponse):  # rows are read while streaming
                    b"".join(response)
        except Exception as exc:  # every crash is a finding to list, not a reason to stop
            self.failures.append(f"{shown} -> 500 {type(exc).__name__}: {exc} at {_where(exc)}")
            return None
        if response.status_code not in expected:
            wanted = " or ".join(str(status) for status in sorted(expected))
            why = f": {explain(response)}" if explain is not None else ""
            self.failures.append(f"{shown} -> {response.status_code} (expected {wanted}){why}")
        return response


HREF = re.compile(r'href="(\?[^"]*)"')


def query_links(response: Any) -> list[str]:
    """The page's links to itself with another query: filters, sorting, date drill-down,
    pagination, as a user would click them."""
    return sorted({html.unescape(link) for link in HREF.findall(response.content.decode())})


class _FormReader(HTMLParser):
    """What a browser would send from one form of a page, left as it is: the enabled
    fields' values, the checked boxes and the selected options (a <select> with none
    selected sends its first option)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.select: tuple[str, bool] | None = None  # name, multiple
        self.options: list[tuple[str, bool]] = []  # value, selected
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside or "disabled" in attributes:
            return
        name = attributes.get("name", "")
        if tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.data.setdefault(name, []).append(attributes.get("value", default))
        elif tag == "select" and name:
            self.select, self.options = (name, "multiple" in attributes), []
        elif tag == "option" and self.select is not None:
            self.options.append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            name, multiple = self.select
            chosen = [value for value, selected in self.options if selected]
            if not chosen and not multiple and self.options:
                chosen = [self.options[0][0]]
            if chosen:
                self.data.setdefault(name, []).extend(chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # The parser keeps the newline a browser drops after <textarea>.
            self.data.setdefault(self.textarea, []).append(self.text.removeprefix("\n"))
            self.textarea = None


def form_as_shown(response: Any, form_id: str) -> dict[str, list[str]]:
    reader = _FormReader(form_id)
    reader.feed(response.content.decode())
    return reader.data


def form_errors(response: Any) -> str:
    """The errors of an admin change page sent back (the form's and its inlines')."""
    context = response.context or {}
    errors = [str(error) for error in context.get("errors", None) or ()]
    inlines = [
        *(context.get("profile_inline_formsets", None) or ()),
        *(context.get("inline_admin_formsets", None) or ()),
    ]
    for inline in inlines:
        errors += [str(error) for error in inline.formset.non_form_errors()]
        errors += [f"{inline.formset.prefix}: {e}" for e in inline.formset.errors if e]
    return re.sub(r"<[^>]+>", " ", "; ".join(errors)) or "no errors shown"


# --- the data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """The walking users and the few rows the walk names; the rest it finds in the tables."""

    superuser: User
    advisor: User  # `own` and most of the work are theirs; the other advisor has the rest
    manager: User
    own: Candidate
    unassigned: Candidate
    open_posting: JobPosting
    closed_posting: JobPosting


def person(**fields: Any) -> LeadInput:
    n = next(_numbers)
    return LeadInput(
        family_name=fields.pop("family_name", FAMILY_NAME),
        given_name=fields.pop("given_name", f"太郎{n}"),
        family_name_kana=fields.pop("family_name_kana", FAMILY_KANA),
        given_name_kana=fields.pop("given_name_kana", "タロウ" + "ア" * (n % 7)),
        email=fields.pop("email", f"walk{n}@example.com"),
        phone=fields.pop("phone", f"090{20_000_000 + n:08d}"),
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now() - timedelta(days=1),
        consent_third_party_provision=True,
        raw_payload={"from": "the screens walk"},
        **fields,
    )


def _candidate(partner: Partner | None, advisor: User | None = None, **fields: Any) -> Candidate:
    lead = lead_ingest(partner=partner, data=person(**fields)).lead
    if advisor is not None:
        candidate_assign(candidate_id=lead.candidate_id, advisor=advisor, by=advisor)
    return Candidate.objects.get(pk=lead.candidate_id)


def _free_starts(*, now: datetime, kind: str = ConsultationKind.CAREER) -> list[datetime]:
    today = now.astimezone(BUSINESS_TZ).date()
    return [
        slot.start
        for slot in slots_for_range(date_from=today, date_to=today + timedelta(days=27), kind=kind, now=now)
    ]


def book(candidate: Candidate, *, now: datetime, skip: int = 0) -> Booking:
    """Book the candidate's first lead into a free slot (the `skip`-th one)."""
    lead = candidate.leads.order_by("created_at").first()
    assert lead is not None
    start = _free_starts(now=now)[skip]
    return booking_create(start=start, kind=ConsultationKind.CAREER, mode="online", lead_id=lead.pk).booking


def seed_everything() -> Seed:
    """One row at least of every table the admin shows, in the states its screens tell apart."""
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    now = timezone.now()
    today = now.astimezone(BUSINESS_TZ).date()
    superuser = User.objects.create_superuser(email="root@urakata.example", password="x", display_name="Root")
    advisor = advisor_onboard(email="aoki@urakata.example", display_name="青木 Aoki")
    other_advisor = advisor_onboard(email="ito@urakata.example", display_name="伊藤 Ito")
    manager = staff_user_create(email="mori@urakata.example", display_name="森 Mori", group=Groups.MANAGERS)
    AvailabilityOverride.objects.create(advisor=advisor, date=today + timedelta(days=40), kind="day_off")
    AvailabilityOverride.objects.create(
        advisor=other_advisor,
        date=today + timedelta(days=41),
        kind="extra",
        start_time="19:00",
        end_time="20:00",
    )

    partner = partner_create(slug="walk-media", name="Walk Media")
    keys = [api_key_issue(partner=partner)[0] for _ in range(2)]
    api_key_revoke(api_key=keys[0])
    signing_secret_generate(partner=partner)
    quiet = partner_create(slug="quiet-media", name="Quiet Media")
    # Webhooks: the partner's receiver refuses connections (port 9 on loopback, allowed by
    # the tests' WEBHOOK_ALLOW_PRIVATE), so its deliveries below have failed attempts;
    # another partner's endpoint was disabled for failing.
    hooks, _secret = webhook_endpoint_create(partner_id=partner.pk, url="https://127.0.0.1:9/hooks")
    gone, _secret = webhook_endpoint_create(partner_id=quiet.pk, url="https://127.0.0.1:9/gone")
    WebhookEndpoint.objects.filter(pk=gone.pk).update(
        enabled=False, disabled_reason="failing", disabled_at=now, failing_since=now - timedelta(days=5)
    )
    # Paid per new person: its leads make payout lines, issued below on a statement.
    PayoutRule.objects.create(
        partner=partner, event="lead_accepted", amount_jpy=3000, effective_from=today - timedelta(days=400)
    )

    birth = today - timedelta(days=24 * 365 + 100)
    own = _candidate(
        partner,
        advisor,
        birth_date=birth,
        prefecture="13",
        current_occupation="factory",
        desired_roles=["accounting"],
        certifications=["boki_2"],
        message="経理に興味があります",
        utm_source="walk",
    )
    lead_ingest(partner=partner, data=person(email=own.email, phone=own.phone, given_name=own.given_name))
    twin = _candidate(
        None, other_advisor, given_name=own.given_name, given_name_kana=own.given_name_kana, birth_date=birth
    )
    other = _candidate(partner, other_advisor, desired_roles=["general_admin"], prefecture="27")
    unassigned = _candidate(partner)
    closed = _candidate(partner, advisor)
    candidate_close(candidate_id=closed.pk, reason=Candidate.ClosedReason.NOT_INTERESTED, by=advisor)
    withdrawn = _candidate(partner, other_advisor)
    candidate_withdraw_consent(candidate_id=withdrawn.pk, by=other_advisor, channel=Channel.ADMIN)
    erased = _candidate(partner, advisor)
    person_erase(candidate=erased, requested_by="本人から電話で", by=manager)
    keep = _candidate(partner, advisor, given_name="花子", given_name_kana="ハナコ", birth_date=birth)
    duplicate = _candidate(None, advisor, given_name="花子", given_name_kana="ハナコ", birth_date=birth)
    candidate_merge(keep_id=keep.pk, duplicate_id=duplicate.pk, by=manager)
    candidate_call_log(candidate_id=own.pk, outcome="reached", by=advisor)
    WorkHistoryEntry.objects.create(candidate=own, occupation="factory", employer_name="東和工業", years=3)
    CandidateCertification.objects.create(
        candidate=own, certification=Certification.objects.get(code="boki_3"), status="held"
    )

    accounting = Role.objects.get(slug="accounting")
    employer = EmployerFactory.create(name="あおば商事株式会社", prefecture="13", industry="卸売")
    open_posting = JobPostingFactory.create(
        employer=employer, role=accounting, title="経理スタッフ", prefecture="13"
    )
    open_posting.required_certifications.add(Certification.objects.get(code="boki_3"))
    closed_posting = JobPostingFactory.create(
        employer=employer, role=accounting, status=JobPosting.Status.CLOSED
    )
    application = application_create(candidate=own, posting=open_posting, by=advisor, note="推薦")
    application_transition(application_id=application.pk, to=Application.Stage.SUBMITTED, by=advisor)
    interview_round_schedule(application_id=application.pk, scheduled_at=now + timedelta(days=3), by=advisor)
    employer_reveal(candidate=own, posting=open_posting, by=advisor)
    placed = application_create(candidate=other, posting=open_posting, by=other_advisor)
    for stage in (Application.Stage.SUBMITTED, Application.Stage.INTERVIEW, Application.Stage.OFFER):
        application_transition(application_id=placed.pk, to=stage, by=other_advisor)
    # Fee terms with a band, so the leaving below gives a credit note beside the invoice.
    EmployerFeeTerms.objects.create(
        employer=open_posting.employer,
        effective_from=today - timedelta(days=400),
        rate_percent=30,
        refund_bands=[{"within_days": 90, "percent": 50}],
    )
    placement = application_accept(
        application_id=placed.pk,
        by=other_advisor,
        placed_on=today - timedelta(days=70),
        start_date=today - timedelta(days=60),
        annual_salary_jpy=3_600_000,
    )
    placement_record_leaving(placement_id=placement.pk, left_on=today - timedelta(days=10), by=manager)
    rejected = application_create(candidate=twin, posting=open_posting, by=other_advisor)
    application_transition(application_id=rejected.pk, to=Application.Stage.DECLINED, by=other_advisor)

    # Consultations two weeks ago (held with an outcome; never marked; no-show), then
    # upcoming ones (one cancelled).
    with time_machine.travel(now - timedelta(days=14), tick=False):
        past = timezone.now()
        held = book(own, now=past)
        unmarked = book(other, now=past, skip=1)
        no_show = book(_candidate(partner), now=past, skip=2)
    booking_record_outcome(
        booking_id=held.pk, next_step=Booking.NextStep.DOCUMENTS, note="職務経歴書を一緒に作る", by=advisor
    )
    booking_mark_no_show(booking_id=no_show.pk, by=advisor)
    assert unmarked.start_at < now
    book(own, now=now, skip=3)
    booking_cancel(booking_id=book(twin, now=now, skip=4).pk, reason="予定が入った")

    followup_task_create(
        candidate_id=own.pk, advisor_id=advisor.pk, due_at=now - timedelta(hours=3), title="電話する"
    )
    followup_task_create(
        candidate_id=other.pk, advisor_id=other_advisor.pk, due_at=now + timedelta(days=2), title="求人を送る"
    )
    done = followup_task_create(
        candidate_id=own.pk, advisor_id=advisor.pk, due_at=now - timedelta(days=2), title="済んだ"
    )
    followup_task_complete(task_id=done.pk, by=advisor)
    snoozed = followup_task_create(
        candidate_id=unassigned.pk, advisor_id=advisor.pk, due_at=now, title="後で"
    )
    followup_task_snooze(task_id=snoozed.pk, until=now + timedelta(hours=5), by=advisor)

    # This month's lines on a statement (issued as on the 1st of next month), then one more
    # line for the running month's draft.
    statements_issue(month=today, now=month_bounds(today)[1])
    _candidate(partner)

    # Each webhook delivery tried once (refused), one of them failed for good.
    webhook_dispatch(time_budget=10, wait_for_due=False)
    last = WebhookDelivery.objects.filter(endpoint=hooks).order_by("pk").last()
    assert last is not None, "the seed's status changes and statement make webhook events"
    WebhookDelivery.objects.filter(pk=last.pk).update(state=WebhookDelivery.State.FAILED)

    # A delivery that failed: the sweep records this after its last attempt.
    first = OutboxMessage.objects.order_by("pk").first()
    assert first is not None, "the bookings enqueue messages"
    OutboxMessage.objects.filter(pk=first.pk).update(
        state=OutboxMessage.State.FAILED, attempts=8, last_error="TransientError: LINE answered 503"
    )
    # A failed login: axes records the attempt (its failure log is off in the settings).
    Client().post("/admin/login/", {"username": "nobody@urakata.example", "password": "wrong"})

    return Seed(
        superuser=superuser,
        advisor=advisor,
        manager=manager,
        own=own,
        unassigned=unassigned,
        open_posting=open_posting,
        closed_posting=closed_posting,
    )
