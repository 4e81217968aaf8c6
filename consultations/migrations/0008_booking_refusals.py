"""Refused direct booking attempts, tallied per hour and reason; advisors and managers
may see them (read-only: the refusals write them)."""

from django.db import migrations, models

from accounts.migration_utils import grant_permissions


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    for group in ("Advisors", "Managers"):
        grant_permissions(apps, group=group, app_label="consultations", codenames=["view_bookingrefusal"])


class Migration(migrations.Migration):

    dependencies = [
        ('consultations', '0007_booking_holds'),
        ('accounts', '0002_staff_groups'),
    ]

    operations = [
        migrations.CreateModel(
            name='BookingRefusal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField(verbose_name='hour')),
                ('reason', models.CharField(choices=[('address_attempts', 'Too many booking attempts from one address'), ('contact_attempts', 'Too many booking attempts for one email or phone'), ('holds_at_once', 'Too many unconfirmed holds from one address'), ('slot_queries', 'Too many slot queries from one address')], max_length=20, verbose_name='reason')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='refused attempts')),
            ],
            options={
                'verbose_name': 'refused booking attempts',
                'verbose_name_plural': 'refused booking attempts',
                'ordering': ('-hour', 'reason'),
                'constraints': [models.UniqueConstraint(fields=('hour', 'reason'), name='booking_refusal_one_per_hour')],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
