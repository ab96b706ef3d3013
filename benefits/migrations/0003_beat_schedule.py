"""Default beat schedule of the benefits jobs (editable in the admin afterwards)."""

from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops


class Migration(migrations.Migration):
    dependencies = [("benefits", "0002_default_benefits"), BEAT_DEPENDENCY]
    operations = schedule_migration_ops(
        [
            {
                "name": "benefits: expire coupons",
                "task": "benefits.expire_coupons",
                "crontab": "5 * * * *",
                "description": "Mark coupons past their end as expired and remind members N days before.",
            },
            {
                "name": "benefits: monthly tier coupons",
                "task": "benefits.issue_tier_coupons",
                "crontab": "10 0 1 * *",
                "description": "Issue this month's coupons of the tier entitlements (idempotent per month).",
            },
            {
                "name": "benefits: draw trials",
                "task": "benefits.draw_trials",
                "crontab": "*/15 * * * *",
                "description": "Random draw of free trials whose application window has closed.",
            },
        ]
    )
