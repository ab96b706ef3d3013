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
def webhooks_dispatch_event(self, event_pk: int) -> None:
    from . import webhooks

    webhooks.webhooks_dispatch_event(event_pk=event_pk)
