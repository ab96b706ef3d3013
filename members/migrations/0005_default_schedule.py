from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_referral_code_default"),
        BEAT_DEPENDENCY,
    ]

    operations = schedule_migration_ops(
        [
            {
                "name": "members: purge expired codes",
                "task": "members.purge_codes",
                "crontab": "40 3 * * *",
                "description": "Delete expired SMS/email codes and finished rate-limit windows.",
            }
        ]
    )
