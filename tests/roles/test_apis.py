"""CONTRACT section 4: the public catalogue."""

import pytest

from accounts.models import User
from roles.models import JobPosting, Role
from tests.roles.factories import CertificationFactory, EmployerFactory, JobPostingFactory, RoleFactory

pytestmark = pytest.mark.django_db

ROLES = "/api/v1/roles/"
CERTIFICATIONS = "/api/v1/certifications/"

GENERAL_ADMIN = {
    "slug": "general_admin",
    "name_ja": "一般事務",
    "name_en": "General Administration",
    "summary": (
        "データ入力や書類の作成・整理など、社内の事務作業を正確に進める仕事です。"
        "未経験から挑戦しやすく、WordとExcelの基本ができれば始められる求人が多くあります。"
    ),
    "typical_tasks": [
        "データ入力",
        "書類の作成とファイリング",
        "電話・来客の対応",
        "郵便物の仕分けと発送",
        "備品の管理",
    ],
    "recommended_certifications": [
        {"code": "mos_word", "name": "MOS Word", "issuer": "Microsoft"},
        {"code": "mos_excel", "name": "MOS Excel", "issuer": "Microsoft"},
        {"code": "hisho_3", "name": "秘書検定3級", "issuer": "公益財団法人 実務技能検定協会"},
        {"code": "it_passport", "name": "ITパスポート試験", "issuer": "独立行政法人 情報処理推進機構（IPA）"},
    ],
    "annual_salary_min": 2_800_000,
    "annual_salary_max": 4_000_000,
    "experience_preferred": False,
    "inexperienced_welcome_share": None,
}
NOT_FOUND = {
    "type": "client_error",
    "errors": [{"code": "not_found", "detail": "見つかりませんでした。", "attr": None}],
}


def test_it_lists_the_catalogue_without_authentication(client):
    response = client.get(ROLES)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert [role["slug"] for role in body] == [
        "accounting",
        "hr",
        "general_affairs",
        "legal",
        "sales_admin",
        "general_admin",
    ]
    assert body[-1] == GENERAL_ADMIN


def test_it_shows_one_role(client):
    response = client.get(f"{ROLES}general_admin/")

    assert response.status_code == 200
    assert response.json() == GENERAL_ADMIN


def test_it_rounds_the_share_to_two_decimals(client):
    role = RoleFactory.create(slug="share_test")
    JobPostingFactory.create_batch(2, role=role, inexperienced_welcome=True)
    JobPostingFactory.create(role=role, inexperienced_welcome=False)
    JobPostingFactory.create(role=role, inexperienced_welcome=False, status=JobPosting.Status.CLOSED)

    detail = client.get(f"{ROLES}share_test/").json()
    listed = next(item for item in client.get(ROLES).json() if item["slug"] == "share_test")

    assert detail["inexperienced_welcome_share"] == 0.67
    assert listed["inexperienced_welcome_share"] == 0.67


@pytest.mark.parametrize(
    ("welcome", "total", "share"), [(1, 8, 0.13), (1, 3, 0.33), (0, 2, 0.0), (4, 4, 1.0)]
)
def test_it_rounds_half_up(client, welcome, total, share):
    role = RoleFactory.create(slug="rounding")
    JobPostingFactory.create_batch(welcome, role=role, inexperienced_welcome=True)
    JobPostingFactory.create_batch(total - welcome, role=role, inexperienced_welcome=False)

    assert client.get(f"{ROLES}rounding/").json()["inexperienced_welcome_share"] == share


def test_it_answers_404_in_the_contract_format_for_an_unknown_role(client):
    response = client.get(f"{ROLES}astronaut/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_it_hides_an_inactive_role(client):
    RoleFactory.create(slug="retired", is_active=False)

    detail = client.get(f"{ROLES}retired/")
    listed = [role["slug"] for role in client.get(ROLES).json()]

    assert detail.status_code == 404
    assert detail.json() == NOT_FOUND
    assert "retired" not in listed


def test_it_lists_the_roles_in_a_constant_number_of_queries(client, django_assert_num_queries):
    for _ in range(5):
        role = RoleFactory.create()
        role.recommended_certifications.set(CertificationFactory.create_batch(3))
        JobPostingFactory.create_batch(2, role=role, inexperienced_welcome=True)

    # 1. the active roles with their open / welcoming posting counts (one GROUP BY)
    # 2. the recommended certifications of all those roles (prefetch)
    # No session or user query: the catalogue does no authentication.
    with django_assert_num_queries(2):
        response = client.get(ROLES)

    assert response.status_code == 200
    assert len(response.json()) == 11


def test_it_shows_a_role_in_two_queries(client, django_assert_num_queries):
    # 1. the role with its counts, 2. its certifications
    with django_assert_num_queries(2):
        response = client.get(f"{ROLES}accounting/")

    assert response.status_code == 200


def test_it_lists_the_certifications(client, django_assert_num_queries):
    # 1. the certifications
    with django_assert_num_queries(1):
        response = client.get(CERTIFICATIONS)

    assert response.status_code == 200
    body = response.json()
    assert [item["code"] for item in body] == [
        "boki_3",
        "boki_2",
        "boki_1",
        "mos_word",
        "mos_excel",
        "mos_powerpoint",
        "mos_expert_word",
        "mos_expert_excel",
        "sharoushi",
        "bizhoumu_3",
        "bizhoumu_2",
        "hisho_3",
        "hisho_2",
        "it_passport",
    ]
    assert body[1] == {
        "code": "boki_2",
        "name": "日商簿記検定2級",
        "name_en": "Nissho Bookkeeping Test, Grade 2",
        "issuer": "日本商工会議所",
        "level": "2級",
    }
    assert body[8] == {
        "code": "sharoushi",
        "name": "社会保険労務士",
        "name_en": "Certified Social Insurance and Labour Consultant",
        "issuer": "全国社会保険労務士会連合会（厚生労働省）",
        "level": None,
    }


def test_it_answers_the_same_to_a_logged_in_advisor(client):
    user = User.objects.create_superuser(email="boss@example.com", password="x", display_name="Boss")
    client.force_login(user)

    response = client.get(f"{ROLES}general_admin/")

    assert response.status_code == 200
    assert response.json() == GENERAL_ADMIN


def test_it_refuses_to_write_to_the_catalogue(client):
    response = client.post(ROLES, {"slug": "x"}, content_type="application/json")

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


def test_it_never_leaks_an_employer_or_a_posting_into_a_public_response(client):
    # Distinctive markers in every employer and posting text field; none may ever come out.
    markers = {
        "name": "極秘商事ZQXEMPLOYER株式会社",
        "name_kana": "ゴクヒショウジZQXKANA",
        "industry": "ZQXINDUSTRY業界",
        "fee_notes": "ZQXFEE手数料35%",
        "title": "ZQXTITLE経理スタッフ",
        "description": "ZQXDESCRIPTION月次決算の担当",
        "pc_skill": "ZQXSKILL会計ソフト",
    }
    employer = EmployerFactory.create(
        name=markers["name"],
        name_kana=markers["name_kana"],
        industry=markers["industry"],
        fee_notes=markers["fee_notes"],
    )
    for role_slug in ("accounting", "general_admin"):
        JobPostingFactory.create(
            employer=employer,
            role=Role.objects.get(slug=role_slug),
            title=markers["title"],
            description=markers["description"],
            pc_skills=[markers["pc_skill"]],
            inexperienced_welcome=True,
        )
    paths = [ROLES, CERTIFICATIONS, "/api/schema/"]
    paths += [f"{ROLES}{item['slug']}/" for item in client.get(ROLES).json()]

    bodies = {path: client.get(path) for path in paths}

    assert {path: response.status_code for path, response in bodies.items()} == dict.fromkeys(paths, 200)
    assert client.get(f"{ROLES}accounting/").json()["inexperienced_welcome_share"] == 1.0  # postings counted
    leaks = [
        (path, key)
        for path, response in bodies.items()
        for key, marker in markers.items()
        if marker in response.content.decode() or "ZQX" in response.content.decode()
    ]
    assert leaks == []
