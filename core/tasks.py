"""Core jobs. Tasks are thin: they take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .jobs import job_run


@shared_task(name="core.heartbeat")
def heartbeat() -> int:
    """Records a JobRun: proves that beat and a worker are alive and can write."""
    with job_run("core.heartbeat") as counts:
        counts["beats"] += 1
    return int(timezone.now().timestamp())


@shared_task(name="core.webhooks_dispatch_event", bind=True, max_retries=None)
def webhooks_dispatch_event(self, event_pk: int) -> int:
    """Fan one outbox event out into deliveries (idempotent)."""
    from . import webhooks

    return len(webhooks.webhooks_dispatch_event(event_pk=event_pk))


@shared_task(name="core.webhooks_deliver")
def webhooks_deliver(delivery_pk: int) -> bool:
    """One try of one delivery if it is due and not being sent elsewhere (idempotent)."""
    from . import webhooks

    attempt = webhooks.webhook_delivery_attempt(delivery_pk=delivery_pk)
    return bool(attempt and attempt.succeeded)


@shared_task(name="core.webhooks_sweep")
def webhooks_sweep() -> dict:
    """Every minute: dispatch events and send deliveries that a lost enqueue left behind."""
    from . import webhooks

    with job_run("core.webhooks_sweep") as counts:
        counts.update(webhooks.webhooks_sweep())
    return dict(counts)


@shared_task(name="core.idempotency_purge")
def idempotency_purge() -> int:
    """Delete Idempotency-Key records past their retention, in batches."""
    from .services import idempotency_records_purge

    with job_run("core.idempotency_purge") as counts:
        counts["deleted"] += idempotency_records_purge()
    return counts["deleted"]


@shared_task(name="core.webhooks_purge")
def webhooks_purge() -> dict:
    """Daily: delete finished webhook events, deliveries and attempts past retention."""
    from . import webhooks

    with job_run("core.webhooks_purge") as counts:
        counts.update(webhooks.webhooks_purge())
    return dict(counts)


@shared_task(name="core.job_runs_purge")
def job_runs_purge() -> int:
    """Daily: delete JobRun rows past retention (the minute sweep writes 1,440 a day)."""
    from .services import job_runs_purge as purge

    with job_run("core.job_runs_purge") as counts:
        counts["deleted"] += purge()
    return counts["deleted"]
