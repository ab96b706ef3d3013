from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial"), BEAT_DEPENDENCY]

    operations = schedule_migration_ops(
        [
            {
                "name": "core: heartbeat",
                "task": "core.heartbeat",
                "every_seconds": 300,
                "description": "Proves beat and a worker are alive (see Job runs).",
            },
        ]
    )
