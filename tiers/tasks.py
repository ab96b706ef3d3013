"""Thin Celery tasks: they call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="tiers.reevaluate")
def reevaluate() -> dict:
    from .services import tiers_reevaluate

    return tiers_reevaluate()


@shared_task(name="tiers.expire_subscriptions")
def expire_subscriptions() -> dict:
    from .services import subscriptions_expire

    return subscriptions_expire()
