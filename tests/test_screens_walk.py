"""Every screen, walked on the database of the run (PostgreSQL, or SQLite with
DATABASE_URL=sqlite:///...) and on any clock: each admin list with its filters, sort orders,
date drill-down and searches, each object's pages (its form saved back as shown), each add
page and action, every custom admin view, and the candidates' booking pages. As the
superuser, an advisor and a manager, each a test of its own (data: tests/screens.py).

Nothing may answer 5xx, and each status is the one the permissions say (a ModelAdmin's
has_*_permission for that user): 200 where allowed, 403 (or the admin's 302 to an object
outside the user's list) where not. The findings are collected, so one run lists every
broken screen."""

import re
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
import time_machine
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import Model
from django.http import HttpRequest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from accounts.models import Groups, User
from consultations.models import Booking, ConsultationKind
from consultations.services import advisor_onboard
from core.business_time import BUSINESS_TZ
from leads.intake.services import lead_ingest
from leads.intake.tokens import booking_token_for
from leads.models import Application, Candidate, Invoice, PartnerStatement
from leads.placements.ledgers import Ledger
from leads.privacy.records import person_erase
from tests.screens import (
    FAMILY_KANA,
    FAMILY_NAME,
    Seed,
    Walker,
    as_request,
    form_as_shown,
    form_errors,
    person,
    query_links,
    seed_everything,
)

pytestmark = pytest.mark.django_db

ROLES = ("superuser", "advisor", "manager")
# Advisors and managers work in Japanese (the default); the superuser's browser asks for
# English, so both catalogues are rendered.
LANGUAGES = {"superuser": "en", "advisor": "ja", "manager": "ja"}
STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")
# Lists that open on the user's own rows: actions are posted where every row shows, as
# after clicking "All".
EVERYTHING = {"leads.candidate": "?advisor=all", "leads.followuptask": "?scope=all"}
DATE_DRILL = re.compile(r"__(year|month|day)$")
ALL_OBJECTS_UP_TO = 12  # per model; beyond that, one object of each kind the user meets


@dataclass(frozen=True)
class Visit:
    """One role's walk: the browser, the user and the data."""

    walk: Walker
    user: User
    seed: Seed

    def request(self) -> HttpRequest:
        return as_request(self.user)

    @property
    def manager(self) -> bool:
        return self.user.is_superuser or self.user.groups.filter(name=Groups.MANAGERS).exists()

    def search_terms(self) -> tuple[str, ...]:
        # A name, its reading, a phone as typed, a partner, an id, and LIKE's wildcards.
        return (FAMILY_NAME, FAMILY_KANA, "090-2000-0001", "walk-media", str(self.seed.own.pk), "50%_")


@pytest.fixture
def seed() -> Seed:
    return seed_everything()


# A walk is some 1,200 requests. The PostgreSQL pass walks as all three roles; the SQLite
# pass leaves out the manager (the superuser's walk runs the same SQL, and the manager's
# permissions do not depend on the database), the moved-clock pass the superuser (the
# manager's walk shows the same dates; English and the superuser's permissions do not
# depend on the clock).
WALKS = [
    pytest.param(
        "superuser", marks=pytest.mark.redundant_in(("moved",), "the manager's walk shows the dates")
    ),
    pytest.param("advisor"),
    pytest.param("manager", marks=pytest.mark.redundant_in(("sqlite",), "the superuser's walk runs the SQL")),
]


@pytest.mark.parametrize("role", WALKS)
def test_it_walks_every_admin_screen(role: str, seed: Seed, record_property: Callable[..., None]) -> None:
    user = getattr(seed, role)
    client = Client(headers={"Accept-Language": LANGUAGES[role]})
    client.force_login(user)
    visit = Visit(Walker(client), user, seed)

    walk_site(visit)
    for model, model_admin in admin.site._registry.items():
        walk_model(visit, model, model_admin)

    record_property("urls_walked", visit.walk.walked)
    assert visit.walk.failures == [], "\n".join(visit.walk.failures)


# --- the site -------------------------------------------------------------------------------


def walk_site(visit: Visit) -> None:
    walk = visit.walk
    walk.get(reverse("admin:index"), 200)
    shown = {app["app_label"] for app in admin.site.get_app_list(visit.request())}
    for app_label in sorted({model._meta.app_label for model in admin.site._registry}):
        walk.get(reverse("admin:app_list", args=[app_label]), 200 if app_label in shown else 404)
    walk.get(reverse("admin:password_change"), 200)
    walk.get(reverse("admin:jsi18n"), 200)
    walk.get(reverse("admin:login"), 302)  # already logged in: on to the index
    walk.get("/admin/no-such-app/", 404)


# --- one model --------------------------------------------------------------------------------


def walk_model(visit: Visit, model: type[Model], model_admin: admin.ModelAdmin[Any]) -> None:
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    changelist = reverse(f"{name}_changelist")
    if model_admin.has_view_or_change_permission(visit.request()):
        walk_changelist(visit, model_admin, changelist)
        walk_actions(visit, model, model_admin, changelist)
    else:
        visit.walk.get(changelist, 403)
    add = reverse(f"{name}_add")
    if model_admin.has_add_permission(visit.request()):
        visit.walk.get(add, 200)
        visit.walk.post(add, {}, 200)  # an empty form comes back with its errors
    else:
        visit.walk.get(add, 403)
    for obj, in_list, first_of_kind in samples(visit, model, model_admin):
        walk_object(visit, model_admin, name, obj, in_list=in_list, deep=first_of_kind)
    walk_autocomplete(visit, model, model_admin)
    walk_custom_views(visit, model_admin)


def walk_changelist(visit: Visit, model_admin: admin.ModelAdmin[Any], changelist: str) -> None:
    """The list, every link of it to itself (filter choices, sort orders, date drill-down
    to the day, pages), and the searches."""
    walk = visit.walk
    page = walk.get(changelist, 200)
    if page is None or page.status_code != 200:
        return
    links = deque(query_links(page))
    seen = set(links)
    while links:
        link = links.popleft()
        response = walk.get(changelist + link, 200)
        if response is None or response.status_code != 200 or not date_drill(link):
            continue
        for deeper in query_links(response):
            if deeper not in seen and date_drill(deeper):
                seen.add(deeper)
                links.append(deeper)
    if model_admin.get_search_fields(visit.request()):
        for term in visit.search_terms():
            walk.get(f"{changelist}?{urlencode({'q': term})}", 200)


def date_drill(link: str) -> bool:
    """A link of the date drill-down alone (a year, a month, a day), not combined with
    filters: those are walked from the plain list already."""
    keys = parse_qs(link.removeprefix("?")).keys()
    return bool(keys) and all(DATE_DRILL.search(key) for key in keys)


def action_form_data(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> dict[str, str]:
    """The extra fields of the list's action form, filled in: the first real choice of
    each, or (the advisor's <select>, filled per request) the user's own id."""
    data = {}
    for name, form_field in model_admin.action_form().fields.items():
        if name in ("action", "select_across"):
            continue
        choices = [str(value) for value, _label in getattr(form_field, "choices", ()) if value]
        data[name] = choices[0] if choices else str(visit.user.pk)
    return data


def walk_actions(
    visit: Visit, model: type[Model], model_admin: admin.ModelAdmin[Any], changelist: str
) -> None:
    """Each action the user is offered, on one row they may change (else the first row):
    a confirmation page (200) or done and back to the list (302)."""
    actions = model_admin.get_actions(visit.request())
    if not actions:
        return
    url = changelist + EVERYTHING.get(model._meta.label_lower, "")
    page = visit.walk.get(url, 200)
    if page is None or page.status_code != 200:
        return
    rows = list(page.context["cl"].result_list)
    if not rows:  # axes' failure log: off in the settings, so never written
        return
    chosen = next((row for row in rows if model_admin.has_change_permission(visit.request(), row)), rows[0])
    extra = action_form_data(visit, model_admin)
    for action in actions:
        data = {"action": action, "_selected_action": [str(chosen.pk)], **extra}
        visit.walk.post(url, data, (200, 302))


def samples(
    visit: Visit, model: type[Model], model_admin: admin.ModelAdmin[Any]
) -> list[tuple[Model, bool, bool]]:
    """(object, in the user's list, first of its kind): the first objects of the table, and
    beyond them one of each kind the user meets (in their list or not, changeable or not,
    deletable or not)."""
    in_list = set(model_admin.get_queryset(visit.request()).values_list("pk", flat=True))
    kinds: set[tuple[bool, bool, bool]] = set()
    picked = []
    for index, obj in enumerate(model._default_manager.order_by("pk")):
        listed = obj.pk in in_list
        seen_as = obj if listed else None
        kind = (
            listed,
            model_admin.has_change_permission(visit.request(), seen_as),
            model_admin.has_delete_permission(visit.request(), seen_as),
        )
        if index < ALL_OBJECTS_UP_TO or kind not in kinds:
            picked.append((obj, listed, kind not in kinds))
            kinds.add(kind)
    return picked


def walk_object(
    visit: Visit, model_admin: admin.ModelAdmin[Any], name: str, obj: Model, *, in_list: bool, deep: bool
) -> None:
    """The change page; for the first object of a kind also its history and delete pages.
    The admin looks the object up in the user's list: one outside it is seen as None."""
    seen_as = obj if in_list else None
    args = [quote(obj.pk)]
    may_see = model_admin.has_view_or_change_permission(visit.request(), seen_as)
    change = reverse(f"{name}_change", args=args)
    page = visit.walk.get(change, (200 if in_list else 302) if may_see else 403)
    may_change = model_admin.has_change_permission(visit.request(), obj)
    # An erased person's blanked name is refused by the form: not saved as shown (reported).
    erased = getattr(obj, "erased_at", None) is not None
    if page is not None and page.status_code == 200 and may_change and not erased:
        # Saved as shown, the page goes back to itself; a form error would be the page's own
        # data refused by its own form.
        form = form_as_shown(page, f"{model_admin.opts.model_name}_form")
        visit.walk.post(change, {**form, "_continue": "1"}, 302, explain=form_errors)
    if not deep:
        return
    visit.walk.get(reverse(f"{name}_history", args=args), (200 if may_see else 403) if in_list else 302)
    may_delete = model_admin.has_delete_permission(visit.request(), seen_as)
    visit.walk.get(reverse(f"{name}_delete", args=args), (200 if in_list else 302) if may_delete else 403)


def walk_autocomplete(visit: Visit, model: type[Model], model_admin: admin.ModelAdmin[Any]) -> None:
    """The search behind each autocomplete field: whoever may view the other model."""
    for field_name in model_admin.get_autocomplete_fields(visit.request()):
        remote = model._meta.get_field(field_name).related_model
        assert isinstance(remote, type)
        allowed = admin.site._registry[remote].has_view_permission(visit.request())
        for term in ("", FAMILY_NAME, "経理"):
            query = urlencode(
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": term,
                }
            )
            visit.walk.get(f"{reverse('admin:autocomplete')}?{query}", 200 if allowed else 403)


# --- the custom views -----------------------------------------------------------------------


def walk_custom_views(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    """Every named URL a ModelAdmin adds to the standard five; one without a walk below is
    a finding too, so that a new screen cannot go unwalked."""
    opts = model_admin.opts
    standard = {f"{opts.app_label}_{opts.model_name}_{view}" for view in STANDARD_VIEWS}
    for pattern in model_admin.get_urls():
        if not isinstance(pattern, URLPattern) or not pattern.name or pattern.name in standard:
            continue
        walker = CUSTOM_VIEWS.get(pattern.name)
        if walker is None:
            visit.walk.failures.append(f"admin:{pattern.name} is not walked: add it to CUSTOM_VIEWS")
        else:
            walker(visit, model_admin)


def walk_dashboard(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    url = reverse("admin:leads_candidate_dashboard")
    status = 200 if model_admin.has_view_permission(visit.request()) else 403
    for query in ("", "?scope=mine", "?scope=all", "?scope=nonsense"):
        visit.walk.get(url + query, status)


def walk_ledgers(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    url = reverse("admin:leads_placement_ledgers")
    today = timezone.localdate(timezone=BUSINESS_TZ)
    visit.walk.get(url, 200 if visit.manager else 403)
    for ledger in Ledger:
        query = urlencode(
            {"ledger": ledger.value, "date_from": today - timedelta(days=400), "date_to": today}
        )
        visit.walk.get(f"{url}?{query}", 200 if visit.manager else 403)
    backwards = urlencode(
        {
            "ledger": Ledger.JOB_SEEKERS.value,
            "date_from": today,
            "date_to": today.replace(day=1) - timedelta(days=1),
        }
    )
    visit.walk.get(f"{url}?{backwards}", 400 if visit.manager else 403)


def walk_retention(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    visit.walk.get(reverse("admin:leads_erasurerecord_retention"), 200 if visit.manager else 403)


def walk_matching(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    """The posting's matching candidates; recommending and revealing the employer."""
    may_recommend = visit.user.has_perm("leads.add_application")
    candidate = str(visit.seed.unassigned.pk)
    for posting in (visit.seed.open_posting, visit.seed.closed_posting):
        url = reverse("admin:roles_jobposting_matching", args=[posting.pk])
        may_see = model_admin.has_view_permission(visit.request(), posting)
        visit.walk.get(url, 200 if may_see else 403)
        may_post = may_see and may_recommend
        visit.walk.post(url, {"candidate": candidate}, 302 if may_post else 403)
        visit.walk.post(url, {"candidate": candidate, "action": "reveal"}, 302 if may_post else 403)
        visit.walk.post(url, {"candidate": "not-a-candidate"}, 404 if may_post else 403)
        visit.walk.post(url, {}, 404 if may_post else 403)
    visit.walk.get(reverse("admin:roles_jobposting_matching", args=[0]), 404)


def walk_outcome(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    """The outcome form of every booking (past, upcoming, cancelled, no-show)."""
    for booking in Booking.objects.order_by("start_at"):
        url = reverse("admin:consultations_booking_outcome", args=[booking.pk])
        may = model_admin.has_change_permission(visit.request(), booking)
        visit.walk.get(url, 200 if may else 403)
        data = {"next_step": Booking.NextStep.THINKING.value, "outcome_note": "walk"}
        visit.walk.post(url, data, (200, 302) if may else 403)
    visit.walk.get(reverse("admin:consultations_booking_outcome", args=["not-a-booking"]), 404)
    visit.walk.get(reverse("admin:consultations_booking_outcome", args=[uuid.uuid4()]), 404)


def walk_application_steps(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    """Scheduling an interview round and recording the placement, for every application."""
    today = timezone.localdate(timezone=BUSINESS_TZ)
    steps = {
        "interview": {"scheduled_at_0": str(today + timedelta(days=5)), "scheduled_at_1": "14:00"},
        "accept": {"start_date": str(today + timedelta(days=30)), "annual_salary_jpy": "3500000"},
    }
    for application in Application.objects.order_by("pk"):
        may = model_admin.has_change_permission(visit.request(), application)
        for step, data in steps.items():
            url = reverse(f"admin:leads_application_{step}", args=[application.pk])
            visit.walk.get(url, 200 if may else 403)
            visit.walk.post(url, data, (200, 302) if may else 403)
    visit.walk.get(reverse("admin:leads_application_interview", args=[0]), 404)


def walk_accept_only(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    """Walked with the interview step (walk_application_steps)."""


def walk_password(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    for target in User.objects.order_by("pk"):
        url = reverse("admin:auth_user_password_change", args=[target.pk])
        may = model_admin.has_change_permission(visit.request(), target)
        visit.walk.get(url, 200 if may else 403)
        visit.walk.post(url, {"password1": "one", "password2": "other"}, 200 if may else 403)


def walk_invoice_pdf(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    may = model_admin.has_view_permission(visit.request())
    for invoice in Invoice.objects.order_by("pk"):
        visit.walk.get(reverse("admin:leads_invoice_pdf", args=[invoice.pk]), 200 if may else 403)
    visit.walk.get(reverse("admin:leads_invoice_pdf", args=[0]), 404 if may else 403)


def walk_statement_csv(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    may = model_admin.has_view_permission(visit.request())
    statements = list(PartnerStatement.objects.order_by("pk"))
    assert statements, "the seed issues a statement"
    for statement in statements:
        visit.walk.get(reverse("admin:leads_partnerstatement_csv", args=[statement.pk]), 200 if may else 403)
    visit.walk.get(reverse("admin:leads_partnerstatement_csv", args=[0]), 404 if may else 403)


def walk_invoice_journal(visit: Visit, model_admin: admin.ModelAdmin[Any]) -> None:
    may = model_admin.has_view_permission(visit.request())
    url = reverse("admin:leads_invoice_journal")
    month = timezone.localdate(timezone=BUSINESS_TZ).strftime("%Y-%m")
    visit.walk.get(url, 200 if may else 403)
    visit.walk.get(f"{url}?month={month}", 200 if may else 403)
    visit.walk.get(f"{url}?month=nonsense", 400 if may else 403)


CUSTOM_VIEWS: dict[str, Callable[[Visit, admin.ModelAdmin[Any]], None]] = {
    "leads_invoice_pdf": walk_invoice_pdf,
    "leads_invoice_journal": walk_invoice_journal,
    "leads_partnerstatement_csv": walk_statement_csv,
    "leads_candidate_dashboard": walk_dashboard,
    "leads_placement_ledgers": walk_ledgers,
    "leads_erasurerecord_retention": walk_retention,
    "roles_jobposting_matching": walk_matching,
    "consultations_booking_outcome": walk_outcome,
    "leads_application_interview": walk_application_steps,
    "leads_application_accept": walk_accept_only,
    "auth_user_password_change": walk_password,
}


# --- the candidates' pages ------------------------------------------------------------------

START = re.compile(r'value="(\d{4}-\d\d-\d\dT[^"]+)"')


def test_it_walks_the_candidates_pages(record_property: Callable[..., None]) -> None:
    advisor_onboard(email="sato@urakata.example", display_name="佐藤 美咲")
    advisor_onboard(email="tanaka@urakata.example", display_name="田中 健太")
    lead = lead_ingest(partner=None, data=person()).lead
    walk = Walker(Client())
    book = f"/book/{booking_token_for(lead_id=lead.pk)}"

    page = walk.get(book, 200)
    assert page is not None
    starts = START.findall(page.content.decode())
    assert len(starts) >= 3, "the next two weeks have free times"
    for link in query_links(page):
        walk.get(book + link, 200)
    for kind in ConsultationKind.values:
        walk.get(f"{book}?{urlencode({'kind': kind})}", 200)
    walk.get(f"{book}?kind=nonsense&day=not-a-day", 200)
    english = Walker(Client(headers={"Accept-Language": "en"}), walk.failures)
    english.get(book, 200)
    walk.post(book, {}, 409)
    walk.post(book, {"kind": "career", "start": "not-a-time", "mode": "online"}, 409)
    walk.post(book, {"kind": "career", "start": starts[0], "mode": "by-pigeon"}, 409)
    booked = walk.post(book, {"kind": "career", "start": starts[0], "mode": "online", "notes": "夜"}, 302)
    assert booked is not None
    manage = str(booked["Location"])
    walk.post(book, {"kind": "career", "start": starts[1], "mode": "phone"}, 409)  # one of each kind

    page = walk.get(manage, 200)
    assert page is not None
    for link in query_links(page):
        walk.get(manage + link, 200)
    ics = re.search(r'href="(/api/v1/consultations/manage/[^"]+/ics)"', page.content.decode())
    assert ics is not None
    walk.get(ics.group(1), 200)
    english.get(manage, 200)
    walk.post(manage, {"action": "reschedule"}, 409)
    walk.post(manage, {"action": "reschedule", "start": "not-a-time"}, 409)
    walk.post(manage, {"action": "reschedule", "start": starts[2]}, 200)
    walk.post(manage, {"action": "cancel", "reason": "予定が入った"}, 200)
    walk.get(manage, 200)  # cancelled: the page says so until the consultation would end
    walk.post(manage, {"action": "reschedule", "start": starts[1]}, 409)
    walk.post(manage, {"action": "cancel"}, 200)  # cancelling again changes nothing
    booking = Booking.objects.get()
    with time_machine.travel(booking.end_at + timedelta(minutes=1), tick=False):
        walk.get(manage, 404)  # the link is spent once the consultation has ended
        walk.post(manage, {"action": "cancel"}, 404)

    for wrong in ("/book/not-a-token", "/consultations/not-a-token", f"/book/{uuid.uuid4().hex}"):
        walk.get(wrong, 404)
        walk.post(wrong, {"kind": "career", "start": starts[1], "mode": "online"}, 404)
    person_erase(candidate=Candidate.objects.get(pk=lead.candidate_id), requested_by="本人", by=None)
    walk.post(book, {"kind": "career", "start": starts[1], "mode": "online"}, 404)

    record_property("urls_walked", walk.walked + english.walked)
    assert walk.failures == [], "\n".join(walk.failures)
