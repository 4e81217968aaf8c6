from decimal import Decimal

from factory.declarations import LazyFunction, Sequence, SubFactory
from factory.django import DjangoModelFactory

from roles.models import Certification, Employer, JobPosting, Role


class CertificationFactory(DjangoModelFactory[Certification]):
    class Meta:
        model = Certification

    code = Sequence(lambda n: f"test_cert_{n}")
    name = Sequence(lambda n: f"テスト検定{n}級")
    name_en = Sequence(lambda n: f"Test certification {n}")
    issuer = "テスト検定協会"
    family = "test"
    level = ""
    sort_order = 900


class RoleFactory(DjangoModelFactory[Role]):
    class Meta:
        model = Role

    slug = Sequence(lambda n: f"test_role_{n}")
    name_ja = Sequence(lambda n: f"テスト職種{n}")
    name_en = Sequence(lambda n: f"Test role {n}")
    summary = "テスト用の職種です。"
    typical_tasks = LazyFunction(lambda: ["データ入力"])
    annual_salary_min = 3_000_000
    annual_salary_max = 4_000_000
    sort_order = 900


class EmployerFactory(DjangoModelFactory[Employer]):
    class Meta:
        model = Employer

    name = Sequence(lambda n: f"テスト商事{n}株式会社")
    fee_rate_percent = Decimal("30.00")


class JobPostingFactory(DjangoModelFactory[JobPosting]):
    class Meta:
        model = JobPosting

    employer = SubFactory(EmployerFactory)
    role = SubFactory(RoleFactory)
    title = Sequence(lambda n: f"事務スタッフ{n}")
    description = "受発注データの入力を担当します。"
    salary_min = 3_000_000
    salary_max = 4_000_000
    status = JobPosting.Status.OPEN
