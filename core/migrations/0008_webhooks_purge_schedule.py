from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [("core", "0007_webhook_secret_overlap"), BEAT_DEPENDENCY]

    operations = schedule_migration_ops(
        [
            {
                "name": "core: purge old webhook events",
                "task": "core.webhooks_purge",
                "crontab": "40 3 * * *",
                "description": "Deletes finished webhook events, deliveries and attempts older than WEBHOOK_RETENTION_DAYS (30).",
            },
        ]
    )
