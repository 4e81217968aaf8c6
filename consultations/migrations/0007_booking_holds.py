"""Holds (CONTRACT section 5): a direct booking is `held` until confirmed, then `booked`, or
`released` at its `confirm_by`. The status that meant "the consultation took place" was
`held` too; it becomes `attended` (rows rewritten here), so that the API's `held` means
the contract's hold.

The exclusion constraint of 0004 (PostgreSQL only) is rebuilt with the new set of
statuses that occupy an advisor's time: held, booked, attended.
"""

from django.conf import settings
from django.db import migrations, models

OVERLAP = "booking_advisor_no_overlap"


def _exclusion(statuses: str) -> str:
    return f"""
ALTER TABLE consultations_booking ADD CONSTRAINT {OVERLAP}
EXCLUDE USING gist (advisor_id WITH =, tstzrange(start_at, blocked_until, '[)') WITH &&)
WHERE (status IN ({statuses}))
"""


DROP = f"ALTER TABLE consultations_booking DROP CONSTRAINT IF EXISTS {OVERLAP}"


def to_attended(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
    apps.get_model("consultations", "Booking").objects.filter(status="held").update(status="attended")


def to_held(apps, schema_editor):  # type: ignore[no-untyped-def]
    Booking = apps.get_model("consultations", "Booking")
    Booking.objects.filter(status__in=["held", "released"]).update(status="cancelled")
    Booking.objects.filter(status="attended").update(status="held")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_exclusion("'booked', 'held'"))


def exclusion_new(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_exclusion("'held', 'booked', 'attended'"))


def exclusion_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0006_booking_outcome"),
        ("leads", "0016_candidate_merged_into"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="booking",
            name="booking_one_booked_per_candidate_kind",
        ),
        migrations.RemoveConstraint(
            model_name="booking",
            name="booking_outcome_of_held_with_next_step",
        ),
        migrations.AddField(
            model_name="booking",
            name="confirm_by",
            field=models.DateTimeField(
                blank=True,
                help_text="A hold not confirmed by then is released.",
                null=True,
                verbose_name="confirm by",
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="confirmed at"),
        ),
        migrations.AddField(
            model_name="booking",
            name="hold_client",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="A keyed hash of the address a hold came from (never the address itself).",
                max_length=64,
                verbose_name="held from",
            ),
        ),
        migrations.AlterField(
            model_name="booking",
            name="status",
            field=models.CharField(
                choices=[
                    ("held", "Held, awaiting confirmation"),
                    ("released", "Released unconfirmed"),
                    ("booked", "Booked"),
                    ("attended", "Held"),
                    ("no_show", "No-show"),
                    ("cancelled", "Cancelled"),
                ],
                default="booked",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(to_attended, to_held, elidable=False),
        migrations.AddIndex(
            model_name="booking",
            index=models.Index(
                condition=models.Q(("status", "held")), fields=["hold_client"], name="booking_hold_client_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["held", "booked"])),
                fields=("candidate", "kind"),
                name="booking_one_booked_per_candidate_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "held"), _negated=True),
                    ("confirm_by__isnull", False),
                    _connector="OR",
                ),
                name="booking_hold_has_deadline",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("next_step", ""),
                        ("next_step_due__isnull", True),
                        ("outcome_recorded_at__isnull", True),
                    ),
                    models.Q(
                        ("outcome_recorded_at__isnull", False),
                        ("status", "attended"),
                        models.Q(("next_step", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="booking_outcome_of_held_with_next_step",
            ),
        ),
        migrations.RunPython(exclusion_new, exclusion_drop, elidable=False),
    ]
