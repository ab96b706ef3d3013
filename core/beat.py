"""Default beat schedules, created by data migrations (editable in the admin afterwards).

In an app's migration:

    from core.beat import schedule_migration_ops
    operations = schedule_migration_ops([
        {"name": "points: expire lots", "task": "points.expire_lots", "crontab": "30 2 * * *"},
        {"name": "points: expire holds", "task": "points.expire_holds", "every_seconds": 60},
    ])

(with `("django_celery_beat", "0019_alter_periodictasks_options")` among its dependencies).
Existing rows are left as operators edited them; the reverse removes only untouched rows.
"""

from __future__ import annotations

from django.db import migrations

BEAT_DEPENDENCY = ("django_celery_beat", "0019_alter_periodictasks_options")


def _forward(specs):
    def forward(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        for spec in specs:
            if PeriodicTask.objects.filter(name=spec["name"]).exists():
                continue
            fields = {"name": spec["name"], "task": spec["task"], "enabled": spec.get("enabled", True)}
            if "crontab" in spec:
                minute, hour, day_of_month, month_of_year, day_of_week = spec["crontab"].split()
                schedule, _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_month=day_of_month,
                    month_of_year=month_of_year,
                    day_of_week=day_of_week,
                    timezone="Asia/Shanghai",
                )
                fields["crontab"] = schedule
            else:
                schedule, _ = IntervalSchedule.objects.get_or_create(
                    every=spec["every_seconds"], period="seconds"
                )
                fields["interval"] = schedule
            fields["description"] = spec.get("description", "")
            PeriodicTask.objects.create(**fields)

    return forward


def _backward(specs):
    def backward(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTask.objects.filter(name__in=[s["name"] for s in specs]).delete()

    return backward


def schedule_migration_ops(specs: list[dict]) -> list:
    return [migrations.RunPython(_forward(specs), _backward(specs))]
