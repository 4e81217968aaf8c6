import pytest

from demo.services import SeedReport
from roles.demo import DEMO_BANDS, demo_employers_seed
from roles.models import Employer, EmployerFeeTerms, JobPosting
from roles.selectors import role_list

pytestmark = pytest.mark.django_db

SHARE = "inexperienced_welcome_share"  # role_list's annotation


def test_it_seeds_employers_and_postings():
    report = SeedReport()

    demo_employers_seed(report=report)

    assert report.created == {"employers": 3, "postings": 8, "fee terms": 3}
    assert list(EmployerFeeTerms.objects.values_list("refund_bands", flat=True)) == [DEMO_BANDS] * 3
    assert Employer.objects.count() == 3
    assert JobPosting.objects.filter(status=JobPosting.Status.OPEN).count() == 7
    assert JobPosting.objects.filter(inexperienced_welcome=True).count() == 5
    assert set(JobPosting.objects.values_list("role__slug", flat=True)) == {
        "accounting",
        "hr",
        "general_affairs",
        "legal",
        "sales_admin",
        "general_admin",
    }


def test_it_adds_nothing_the_second_time():
    demo_employers_seed(report=SeedReport())
    before = (Employer.objects.count(), JobPosting.objects.count())
    report = SeedReport()

    demo_employers_seed(report=report)

    assert report.created == {"employers": 0, "postings": 0, "fee terms": 0}
    assert (Employer.objects.count(), JobPosting.objects.count()) == before == (3, 8)


def test_it_recreates_only_what_is_missing():
    demo_employers_seed(report=SeedReport())
    JobPosting.objects.filter(role__slug="legal").delete()
    report = SeedReport()

    demo_employers_seed(report=report)

    assert report.created == {"employers": 0, "postings": 1, "fee terms": 0}


def test_it_gives_the_catalogue_realistic_shares():
    demo_employers_seed(report=SeedReport())

    shares = {role.slug: getattr(role, SHARE) for role in role_list()}

    assert shares == {
        "accounting": 0.5,
        "hr": 0.0,
        "general_affairs": None,  # its only posting is paused
        "legal": 0.0,
        "sales_admin": 1.0,
        "general_admin": 1.0,
    }
