"""The exclusion constraint that makes double booking impossible, on PostgreSQL only.

It is added with raw SQL and kept out of the migration state (and out of Booking.Meta) on
purpose: SQLite cannot express it, and a constraint in the state would be written into
every table SQLite rebuilds. On SQLite the booking service checks for overlaps itself,
after its INSERT and inside its transaction (SQLite has a single writer).

btree_gist lets the GiST index compare advisor ids with `=` next to the range `&&`. It is a
trusted extension (PostgreSQL 13+): the database owner may create it without superuser.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "booking_advisor_no_overlap"

ADD = f"""
ALTER TABLE consultations_booking ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (advisor_id WITH =, tstzrange(start_at, blocked_until, '[)') WITH &&)
WHERE (status IN ('booked', 'held'))
"""
DROP = f"ALTER TABLE consultations_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT}"


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("consultations", "0003_bookings")]

    operations = [
        BtreeGistExtension(),  # a no-op on databases other than PostgreSQL
        migrations.RunPython(add, drop, elidable=False),
    ]
