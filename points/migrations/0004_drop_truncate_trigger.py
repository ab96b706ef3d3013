"""TRUNCATE stays possible (test databases are flushed with it); UPDATE/DELETE remain refused."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS points_entry_no_truncate ON points_pointsentry", params=None)


class Migration(migrations.Migration):
    dependencies = [("points", "0003_default_rules_and_schedule")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
