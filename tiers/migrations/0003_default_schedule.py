from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [("tiers", "0002_default_catalogue"), BEAT_DEPENDENCY]

    operations = schedule_migration_ops(
        [
            {
                "name": "tiers: re-evaluate tiers",
                "task": "tiers.reevaluate",
                "crontab": "15 3 * * *",
                "description": "Retention check (保级), grace and one-step downgrades; resumes an interrupted run.",
            },
            {
                "name": "tiers: expire subscriptions",
                "task": "tiers.expire_subscriptions",
                "crontab": "5 * * * *",
                "description": "Expire ended paid memberships, remind auto-renew members, end lapsed overrides.",
            },
        ]
    )
