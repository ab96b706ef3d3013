from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [("core", "0008_webhooks_purge_schedule"), BEAT_DEPENDENCY]

    operations = schedule_migration_ops(
        [
            {
                "name": "core: purge old job runs",
                "task": "core.job_runs_purge",
                "crontab": "50 3 * * *",
                "description": "Deletes finished job runs older than JOB_RUN_RETENTION_DAYS (90).",
            },
        ]
    )
