"""Issued partner statements and their lines never change (CONTRACT section 8): a trigger
refuses any update of an issued statement but its paid date (recorded once, from NULL), and
any update of a line once it is on a statement, on PostgreSQL and SQLite alike; on
PostgreSQL deleting either too. (On SQLite the test flush deletes rows, so there the models
refuse deleting instead.)

Permissions: managers keep the payout rules and record payments; advisors and managers
view statements and lines.
"""

from django.db import migrations

from accounts.migration_utils import grant_permissions

STATEMENT_COLUMNS = (
    "partner_id month number year sequence subtotal_jpy tax_rate_percent tax_jpy total_jpy "
    "line_count issued_at"
).split()

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION leads_statement_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
        OR {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in STATEMENT_COLUMNS)}
        OR (OLD.paid_on IS NOT NULL AND NEW.paid_on IS DISTINCT FROM OLD.paid_on)
    THEN
        RAISE EXCEPTION 'an issued statement cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_statement_immutable
    BEFORE UPDATE OR DELETE ON leads_partnerstatement
    FOR EACH ROW EXECUTE FUNCTION leads_statement_immutable();

-- The WHEN clause is checked without calling the function: issuing a statement attaches
-- thousands of lines in one UPDATE, each of which would otherwise run PL/pgSQL.
CREATE OR REPLACE FUNCTION leads_payoutline_issued() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a line of an issued statement cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_payoutline_issued
    BEFORE UPDATE OR DELETE ON leads_payoutline
    FOR EACH ROW WHEN (OLD.statement_id IS NOT NULL) EXECUTE FUNCTION leads_payoutline_issued();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS leads_statement_immutable ON leads_partnerstatement;
DROP FUNCTION IF EXISTS leads_statement_immutable();
DROP TRIGGER IF EXISTS leads_payoutline_issued ON leads_payoutline;
DROP FUNCTION IF EXISTS leads_payoutline_issued();
"""

SQLITE_CREATE = [
    f"""
CREATE TRIGGER leads_statement_immutable_update BEFORE UPDATE ON leads_partnerstatement
WHEN {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in STATEMENT_COLUMNS)}
    OR (OLD.paid_on IS NOT NULL AND NEW.paid_on IS NOT OLD.paid_on)
BEGIN SELECT RAISE(ABORT, 'an issued statement cannot be changed'); END;
""",
    """
CREATE TRIGGER leads_payoutline_issued_update BEFORE UPDATE ON leads_payoutline
WHEN OLD.statement_id IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a line of an issued statement cannot be changed'); END;
""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS leads_statement_immutable_update;",
    "DROP TRIGGER IF EXISTS leads_payoutline_issued_update;",
]


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    viewing = ["view_partnerstatement", "view_payoutline", "view_payoutrule"]
    grant_permissions(apps, group="Advisors", app_label="leads", codenames=viewing)
    grant_permissions(
        apps,
        group="Managers",
        app_label="leads",
        codenames=[*viewing, "add_payoutrule", "mark_paid_partnerstatement", "add_payoutline"],
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0030_partner_payouts")]

    operations = [
        migrations.RunPython(add, drop, elidable=False),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
