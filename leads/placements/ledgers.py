"""The ledgers a licensed fee-charging placement agency keeps (職業安定法施行規則 第24条の8:
求職管理簿, 求人管理簿, 手数料管理簿) and the yearly figures it discloses (職業安定法 第32条の16:
hires, of which into permanent employment, those of them who left within six months, fees).

Reads only. Each ledger is a list of rows for a range of days in Japan time, written as CSV
by `ledger_csv`. The headers are the legal documents' own words, in Japanese whatever the
interface language: these files are shown to the labour bureau as they are.

What decides whether a row belongs to a range:
- 求職管理簿: the job-seeker was received (first lead, `Candidate.created_at`) on one of the days;
  one row per referral (application), or one row with empty referral columns when there is none.
- 求人管理簿: the posting was received (`JobPosting.created_at`) on one of the days; one row per
  referred candidate, or one with empty referral columns.
- 手数料管理簿: the placement was made (`Placement.placed_on`, the day the offer was accepted) on
  one of the days; each row names the placement's invoice and credit note (返還インボイス), if any.
An erased person (APPI deletion) keeps their rows with the anonymised values erasure left.
"""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from django.db.models import Q, QuerySet

from core.business_time import BUSINESS_TZ as JST
from core.prefectures import PREFECTURES
from leads.models import Application, Candidate, Invoice, Placement
from roles.models import JobPosting, Role

PREFECTURE_NAMES = {code: name for code, name, _label in PREFECTURES}


EMPLOYMENT_TYPES_JA = {
    JobPosting.EmploymentType.FULL_TIME: "正社員",
    JobPosting.EmploymentType.CONTRACT: "契約社員",
    JobPosting.EmploymentType.DISPATCH: "派遣",
}


POSTING_STATUS_JA = {
    JobPosting.Status.DRAFT: "下書き",
    JobPosting.Status.OPEN: "募集中",
    JobPosting.Status.PAUSED: "一時停止",
    JobPosting.Status.CLOSED: "募集終了",
}


Stage = Application.Stage


RESULTS_JA = {
    Stage.ACCEPTED: "採用",
    Stage.REJECTED: "不採用",
    Stage.DECLINED: "辞退",
    Stage.WITHDRAWN: "取下げ",
}


IN_PROGRESS_JA = "選考中"


DIRECT_JA = "直接応募"


class Ledger(StrEnum):
    JOB_SEEKERS = "job_seekers"
    JOB_ORDERS = "job_orders"
    FEES = "fees"


TITLES = {
    Ledger.JOB_SEEKERS: "求職管理簿",
    Ledger.JOB_ORDERS: "求人管理簿",
    Ledger.FEES: "手数料管理簿",
}


HEADERS: dict[Ledger, tuple[str, ...]] = {
    Ledger.JOB_SEEKERS: (
        "求職者番号",
        "求職受付日",
        "氏名",
        "フリガナ",
        "生年月日",
        "住所（都道府県）",
        "希望職種",
        "希望就業地",
        "希望年収（円）",
        "求職の経路",
        "紹介日",
        "紹介先",
        "求人番号",
        "紹介の結果",
        "就職日",
    ),
    Ledger.JOB_ORDERS: (
        "求人番号",
        "求人受付日",
        "求人者の名称",
        "求人者の所在地",
        "職種",
        "求人名",
        "雇用形態",
        "就業場所",
        "賃金（年収・円）",
        "求人の状態",
        "紹介日",
        "紹介した求職者番号",
        "紹介した求職者の氏名",
        "紹介の結果",
        "就職日",
    ),
    Ledger.FEES: (
        "成立日",
        "求人者の名称",
        "求職者番号",
        "求職者の氏名",
        "就職日",
        "雇用形態",
        "年収（円）",
        "手数料率（%）",
        "手数料（円）",
        "離職日",
        "返戻金（円）",
        "差引手数料（円）",
        "請求書番号",
        "返還インボイス番号",
    ),
}


def _day_range(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[first instant of date_from, first instant after date_to) in Japan time."""
    return (
        datetime.combine(date_from, time.min, tzinfo=JST),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=JST),
    )


def _jst_day(moment: datetime) -> str:
    return moment.astimezone(JST).date().isoformat()


def _result(application: Application) -> str:
    return RESULTS_JA.get(Stage(application.stage), IN_PROGRESS_JA)


def _start_date(application: Application) -> str:
    placement = getattr(application, "placement", None)
    return placement.start_date.isoformat() if placement else ""


def _full_name(candidate: Candidate) -> str:
    return f"{candidate.family_name} {candidate.given_name}".strip()


def _kana(candidate: Candidate) -> str:
    return f"{candidate.family_name_kana} {candidate.given_name_kana}".strip()


def _salary(posting: JobPosting) -> str:
    return f"{posting.salary_min}〜{posting.salary_max}"


def _workplace(posting: JobPosting) -> str:
    place = PREFECTURE_NAMES.get(posting.prefecture, "")
    if posting.remote != JobPosting.Remote.NONE:
        return f"{place}（{posting.get_remote_display()}）" if place else str(posting.get_remote_display())
    return place


def _with_referrals(
    head: list[str], applications: list[Application], whom: Callable[[Application], list[str]]
) -> list[list[str]]:
    """One row per referral: the day, to or of whom, the result and the start date; one row
    with those columns empty when there was none."""
    if not applications:
        return [[*head, "", "", "", "", ""]]
    return [[*head, _jst_day(a.created_at), *whom(a), _result(a), _start_date(a)] for a in applications]


def _applications(extra: Q) -> QuerySet[Application]:
    return (
        Application.objects.filter(extra)
        .select_related("candidate", "posting__employer", "placement")
        .order_by("created_at", "pk")
    )


def _job_seeker_rows(date_from: date, date_to: date) -> list[list[str]]:
    start, end = _day_range(date_from, date_to)
    candidates = list(
        Candidate.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("credited_lead__partner")
        .order_by("created_at", "pk")
    )
    roles = dict(Role.objects.values_list("slug", "name_ja"))
    by_candidate: dict[object, list[Application]] = {}
    for application in _applications(Q(candidate__created_at__gte=start, candidate__created_at__lt=end)):
        by_candidate.setdefault(application.candidate_id, []).append(application)
    rows = []
    for candidate in candidates:
        lead = candidate.credited_lead
        person = [
            str(candidate.pk),
            _jst_day(candidate.created_at),
            _full_name(candidate),
            _kana(candidate),
            candidate.birth_date.isoformat() if candidate.birth_date else "",
            PREFECTURE_NAMES.get(candidate.prefecture, ""),
            "・".join(roles.get(slug, slug) for slug in candidate.desired_roles),
            "・".join(PREFECTURE_NAMES.get(code, code) for code in candidate.desired_prefectures),
            str(candidate.min_annual_salary or ""),
            lead.partner.name if lead and lead.partner else DIRECT_JA,
        ]
        rows.extend(
            _with_referrals(
                person,
                by_candidate.get(candidate.pk, []),
                lambda a: [a.posting.employer.name, str(a.posting_id)],
            )
        )
    return rows


def _job_order_rows(date_from: date, date_to: date) -> list[list[str]]:
    start, end = _day_range(date_from, date_to)
    postings = list(
        JobPosting.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("employer", "role")
        .order_by("created_at", "pk")
    )
    by_posting: dict[int, list[Application]] = {}
    for application in _applications(Q(posting__created_at__gte=start, posting__created_at__lt=end)):
        by_posting.setdefault(application.posting_id, []).append(application)
    rows = []
    for posting in postings:
        order = [
            str(posting.pk),
            _jst_day(posting.created_at),
            posting.employer.name,
            PREFECTURE_NAMES.get(posting.employer.prefecture, ""),
            posting.role.name_ja,
            posting.title,
            EMPLOYMENT_TYPES_JA[JobPosting.EmploymentType(posting.employment_type)],
            _workplace(posting),
            _salary(posting),
            POSTING_STATUS_JA[JobPosting.Status(posting.status)],
        ]
        rows.extend(
            _with_referrals(
                order,
                by_posting.get(posting.pk, []),
                lambda a: [str(a.candidate_id), _full_name(a.candidate)],
            )
        )
    return rows


def _fee_rows(date_from: date, date_to: date) -> list[list[str]]:
    placements = (
        Placement.objects.filter(placed_on__gte=date_from, placed_on__lte=date_to)
        .select_related("application__candidate", "application__posting__employer")
        .prefetch_related("invoices")
        .order_by("placed_on", "pk")
    )
    rows = []
    for placement in placements:
        application = placement.application
        refund = placement.refund_jpy or 0
        numbers = {invoice.kind: invoice.number for invoice in placement.invoices.all()}
        rows.append(
            [
                placement.placed_on.isoformat(),
                application.posting.employer.name,
                str(application.candidate_id),
                _full_name(application.candidate),
                placement.start_date.isoformat(),
                EMPLOYMENT_TYPES_JA[JobPosting.EmploymentType(placement.employment_type)],
                str(placement.annual_salary_jpy),
                f"{placement.fee_rate_percent:.2f}",
                str(placement.fee_jpy),
                placement.left_on.isoformat() if placement.left_on else "",
                str(placement.refund_jpy) if placement.refund_jpy is not None else "",
                str(placement.fee_jpy - refund),
                numbers.get(Invoice.Kind.INVOICE, ""),
                numbers.get(Invoice.Kind.CREDIT_NOTE, ""),
            ]
        )
    return rows


ROWS = {
    Ledger.JOB_SEEKERS: _job_seeker_rows,
    Ledger.JOB_ORDERS: _job_order_rows,
    Ledger.FEES: _fee_rows,
}


def ledger_rows(*, ledger: Ledger, date_from: date, date_to: date) -> list[list[str]]:
    """The ledger's rows (without the header) for the days from date_from to date_to."""
    return ROWS[ledger](date_from, date_to)


def ledger_csv(*, ledger: Ledger, rows: Iterable[Sequence[str]]) -> str:
    """CSV text with a byte-order mark (Excel in Japan opens UTF-8 only with it) and CRLF."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS[ledger])
    writer.writerows(rows)
    return out.getvalue()


def ledger_candidate_ids(*, ledger: Ledger, rows: Iterable[Sequence[str]]) -> set[str]:
    """The people whose data a ledger export shows, for the audit log."""
    header = "紹介した求職者番号" if ledger == Ledger.JOB_ORDERS else "求職者番号"
    column = HEADERS[ledger].index(header)
    return {row[column] for row in rows if row[column]}
