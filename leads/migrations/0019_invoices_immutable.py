"""Issued invoices and credit notes are immutable: a trigger refuses any update but the paid
date (recorded once, from NULL), on PostgreSQL and on SQLite (the newcomer's embedded
default) alike, and on PostgreSQL every DELETE too. TRUNCATE (the test suite's flush on
PostgreSQL) is not a row operation and is not affected; on SQLite the flush deletes rows,
so there deleting is refused by the model (leads.models.invoices) instead.

Permissions: advisors and managers view invoices; managers record payments (the invoices
themselves are issued by the system, never added or changed by hand). Managers keep the fee
terms (roles.EmployerFeeTerms; a change is a new version, so there is no change or delete).
"""

from django.db import migrations

from accounts.migration_utils import grant_permissions

COLUMNS = (
    "kind number series year sequence placement_id employer_id credited_invoice_id recipient_name "
    "issuer_name registration_number description issued_on due_on amount_jpy tax_rate_percent "
    "tax_jpy tax_rounding total_jpy created_at"
).split()

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION leads_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
        OR {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in COLUMNS)}
        OR (OLD.paid_on IS NOT NULL AND NEW.paid_on IS DISTINCT FROM OLD.paid_on)
        OR (NEW.created_by_id IS NOT NULL AND NEW.created_by_id IS DISTINCT FROM OLD.created_by_id)
    THEN
        RAISE EXCEPTION 'an issued invoice cannot be changed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_invoice_immutable
    BEFORE UPDATE OR DELETE ON leads_invoice
    FOR EACH ROW EXECUTE FUNCTION leads_invoice_immutable();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS leads_invoice_immutable ON leads_invoice;
DROP FUNCTION IF EXISTS leads_invoice_immutable();
"""

SQLITE_CREATE = [
    f"""
CREATE TRIGGER leads_invoice_immutable_update BEFORE UPDATE ON leads_invoice
WHEN {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in COLUMNS)}
    OR (OLD.paid_on IS NOT NULL AND NEW.paid_on IS NOT OLD.paid_on)
    OR (NEW.created_by_id IS NOT NULL AND NEW.created_by_id IS NOT OLD.created_by_id)
BEGIN SELECT RAISE(ABORT, 'an issued invoice cannot be changed'); END;
""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS leads_invoice_immutable_update;"]


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
    grant_permissions(apps, group="Advisors", app_label="leads", codenames=["view_invoice"])
    grant_permissions(
        apps, group="Managers", app_label="leads", codenames=["view_invoice", "mark_paid_invoice"]
    )
    grant_permissions(apps, group="Advisors", app_label="roles", codenames=["view_employerfeeterms"])
    grant_permissions(
        apps,
        group="Managers",
        app_label="roles",
        codenames=["view_employerfeeterms", "add_employerfeeterms"],
    )


class Migration(migrations.Migration):
    dependencies = [("leads", "0018_invoices_and_placement_followups"), ("roles", "0006_employer_fee_terms")]

    operations = [
        migrations.RunPython(add, drop, elidable=False),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
