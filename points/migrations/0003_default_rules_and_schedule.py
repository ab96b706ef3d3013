"""Programme settings, the default earning rules and the jobs' beat schedule."""

from decimal import Decimal

from django.db import migrations

from core.beat import BEAT_DEPENDENCY, schedule_migration_ops

DEFAULT_RULES = [
    {"name": "Order points: 1 per CNY", "event_type": "order_paid", "mode": "per_unit", "points_per_unit": Decimal("1"), "priority": 10},
    {"name": "Registration gift", "event_type": "registration", "mode": "fixed", "fixed_points": 100, "max_times_per_month": 1, "apply_tier_multiplier": False},
    {"name": "Profile completed", "event_type": "profile_completed", "mode": "fixed", "fixed_points": 50, "max_times_per_month": 1, "apply_tier_multiplier": False},
    {"name": "Daily check-in", "event_type": "check_in", "mode": "fixed", "fixed_points": 5, "max_times_per_day": 1},
    {"name": "Product review", "event_type": "review", "mode": "fixed", "fixed_points": 20, "max_times_per_day": 5},
]

SCHEDULE = [
    {"name": "points: confirm pending order points", "task": "points.confirm_pending", "crontab": "5 * * * *"},
    {"name": "points: expire lots", "task": "points.expire_lots", "crontab": "30 2 * * *"},
    {"name": "points: expiry reminders", "task": "points.remind_expiring", "crontab": "0 10 * * *"},
    {"name": "points: expire holds", "task": "points.expire_holds", "every_seconds": 60},
    {"name": "points: reconciliation", "task": "points.reconcile", "crontab": "15 3 * * *"},
]


def create_defaults(apps, schema_editor):
    PointsSettings = apps.get_model("points", "PointsSettings")
    EarningRule = apps.get_model("points", "EarningRule")
    PointsSettings.objects.get_or_create(pk=1)
    for spec in DEFAULT_RULES:
        if not EarningRule.objects.filter(event_type=spec["event_type"]).exists():
            EarningRule.objects.create(**spec)


def remove_defaults(apps, schema_editor):
    EarningRule = apps.get_model("points", "EarningRule")
    EarningRule.objects.filter(name__in=[s["name"] for s in DEFAULT_RULES], awards__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("points", "0002_entries_immutable_trigger"), BEAT_DEPENDENCY]

    operations = [migrations.RunPython(create_defaults, remove_defaults), *schedule_migration_ops(SCHEDULE)]
