"""Row locks of core's tables, in one place (call inside transaction.atomic()).

Each function locks one row (`select_for_update(of=("self",))`); callers that lock several
rows of one table do it in primary-key order.
"""

from __future__ import annotations

from .models import ApiKey, OutboxEvent, WebhookDelivery, WebhookEndpoint


def api_key_lock(pk: int) -> ApiKey:
    return ApiKey.objects.select_for_update(of=("self",)).select_related("partner").get(pk=pk)


def webhook_endpoint_lock(pk: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("partner").get(pk=pk)


def outbox_event_lock(pk: int) -> OutboxEvent | None:
    return OutboxEvent.objects.select_for_update(of=("self",)).filter(pk=pk).first()


def webhook_delivery_lock(pk: int) -> WebhookDelivery:
    return WebhookDelivery.objects.select_for_update(of=("self",)).get(pk=pk)


def webhook_delivery_lock_sendable(pk: int, *, due_before=None) -> WebhookDelivery | None:
    """The delivery if it is open (pending/failed), due, and not locked by another sender."""
    qs = WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        pk=pk, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED]
    )
    if due_before is not None:
        qs = qs.filter(next_attempt_at__lte=due_before)
    return qs.first()
