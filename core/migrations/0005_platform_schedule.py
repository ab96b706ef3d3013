from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [("core", "0004_api_platform"), BEAT_DEPENDENCY]

    operations = schedule_migration_ops(
        [
            {
                "name": "core: webhooks sweep",
                "task": "core.webhooks_sweep",
                "every_seconds": 60,
                "description": "Fans out outbox events not yet dispatched and sends webhook deliveries that are due.",
            },
            {
                "name": "core: purge idempotency records",
                "task": "core.idempotency_purge",
                "crontab": "20 * * * *",
                "description": "Deletes Idempotency-Key records older than IDEMPOTENCY_RECORD_TTL_HOURS (>= 24h).",
            },
        ]
    )
