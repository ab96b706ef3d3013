"""On PostgreSQL, refuse UPDATE and DELETE of ledger entries in the database itself."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION points_entry_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points entries are immutable (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS points_entry_immutable ON points_pointsentry;
CREATE TRIGGER points_entry_immutable
    BEFORE UPDATE OR DELETE ON points_pointsentry
    FOR EACH ROW EXECUTE FUNCTION points_entry_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS points_entry_immutable ON points_pointsentry;
DROP TRIGGER IF EXISTS points_entry_no_truncate ON points_pointsentry;
DROP FUNCTION IF EXISTS points_entry_immutable();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
