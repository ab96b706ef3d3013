"""Thin Celery tasks: each calls one service (scheduled by migration 0003 through core.beat)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="points.confirm_pending")
def confirm_pending() -> dict:
    return services.points_confirm_pending()


@shared_task(name="points.expire_lots")
def expire_lots() -> dict:
    return services.points_expire_lots()


@shared_task(name="points.remind_expiring")
def remind_expiring() -> dict:
    return services.points_remind_expiring()


@shared_task(name="points.expire_holds")
def expire_holds() -> dict:
    return services.points_expire_holds()


@shared_task(name="points.reconcile")
def reconcile() -> int:
    return services.points_reconcile().drift_count
