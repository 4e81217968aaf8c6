from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Groups, User


@transaction.atomic
def staff_user_create(*, email: str, display_name: str, group: str, password: str | None = None) -> User:
    """Create a staff user in one of the staff groups. Without a password the account has
    an unusable one (it can be given a password later through the admin's reset form)."""
    user = User.objects.create_user(email=email, password=password, display_name=display_name, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def advisor_create(*, email: str, display_name: str, password: str | None = None) -> User:
    return staff_user_create(email=email, display_name=display_name, group=Groups.ADVISORS, password=password)
