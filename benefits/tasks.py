"""Thin Celery tasks: each records a JobRun and calls a service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.jobs import job_run

EXPIRY_REMINDER_DAYS_DEFAULT = 3


@shared_task(name="benefits.expire_coupons")
def expire_coupons() -> dict:
    """Expire coupons past their end, then remind members of those ending within N days
    (setting BENEFITS_COUPON_REMINDER_DAYS, default 3)."""
    from .services import coupons_expire_due, coupons_remind_expiring

    days = int(getattr(settings, "BENEFITS_COUPON_REMINDER_DAYS", EXPIRY_REMINDER_DAYS_DEFAULT))
    with job_run("benefits.expire_coupons") as counts:
        counts["expired"] += coupons_expire_due()
        counts["reminded"] += coupons_remind_expiring(days=days)
    return dict(counts)


@shared_task(name="benefits.issue_tier_coupons")
def issue_tier_coupons() -> dict:
    from .services import tier_coupons_issue

    with job_run("benefits.issue_tier_coupons") as counts:
        counts.update(tier_coupons_issue())
    return dict(counts)


@shared_task(name="benefits.bulk_issue")
def bulk_issue(bulk_id: int) -> dict:
    from .services import coupon_bulk_issue_run

    return dict(coupon_bulk_issue_run(bulk_id=bulk_id).counts)


@shared_task(name="benefits.draw_trials")
def draw_trials() -> dict:
    from .services import trials_draw_due

    with job_run("benefits.draw_trials") as counts:
        counts.update(trials_draw_due())
    return dict(counts)
