"""The audit log is append-only, on PostgreSQL by a trigger (SQLite, the newcomer's
embedded default, keeps the plain table).

The one change allowed is the actor becoming NULL, which is what ON DELETE SET NULL does
when a user account is deleted: the entry keeps everything else. TRUNCATE (the test
suite's flush) is not a row operation and is not affected. Managers get the view
permission only; nobody gets add, change or delete.
"""

from django.db import migrations

from accounts.migration_utils import grant_permissions

CREATE = """
CREATE OR REPLACE FUNCTION leads_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
        OR NEW.candidate_id IS DISTINCT FROM OLD.candidate_id
        OR NEW.action IS DISTINCT FROM OLD.action
        OR NEW.channel IS DISTINCT FROM OLD.channel
        OR NEW.fields IS DISTINCT FROM OLD.fields
        OR NEW.at IS DISTINCT FROM OLD.at
        OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
    THEN
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER leads_auditentry_append_only
    BEFORE UPDATE OR DELETE ON leads_auditentry
    FOR EACH ROW EXECUTE FUNCTION leads_auditentry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS leads_auditentry_append_only ON leads_auditentry;
DROP FUNCTION IF EXISTS leads_auditentry_append_only();
"""


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    grant_permissions(apps, group="Managers", app_label="leads", codenames=["view_auditentry"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0009_privacy_audit_consent")]

    operations = [
        migrations.RunPython(add, drop, elidable=False),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
