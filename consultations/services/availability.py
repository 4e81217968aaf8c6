from datetime import time

from django.db import transaction

from accounts.models import User
from accounts.services import advisor_create
from consultations.models import WeeklyAvailability

# The agency's consultation hours (CONTRACT section 1): weekdays 10:00-19:00 JST.
DEFAULT_WEEKLY_HOURS = tuple((weekday, time(10), time(19)) for weekday in range(5))


def availability_set_default(*, advisor: User) -> list[WeeklyAvailability]:
    """Give an advisor the default week, leaving windows they already have untouched."""
    windows = [
        WeeklyAvailability(advisor=advisor, weekday=weekday, start_time=start, end_time=end)
        for weekday, start, end in DEFAULT_WEEKLY_HOURS
    ]
    # The unique constraint on (advisor, weekday, start_time) makes this safe to repeat.
    WeeklyAvailability.objects.bulk_create(windows, ignore_conflicts=True)
    return list(WeeklyAvailability.objects.filter(advisor=advisor))


@transaction.atomic
def advisor_onboard(*, email: str, display_name: str, password: str | None = None) -> User:
    """A new advisor, ready to be booked: staff user, Advisors group, default week."""
    advisor = advisor_create(email=email, display_name=display_name, password=password)
    availability_set_default(advisor=advisor)
    return advisor
