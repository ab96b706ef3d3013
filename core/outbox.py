"""Write webhook events to the outbox inside the caller's transaction.

Delivery (signing, retries, attempts) is core.webhooks; this module only records.
"""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .ids import new_public_id
from .models import OutboxEvent, Partner

WEBHOOK_EVENT_TYPES = [
    "member.created",
    "member.verified",
    "tier.changed",
    "points.earned",
    "points.expiring",
    "points.expired",
    "coupon.issued",
    "member.churn_risk",
    "campaign.reward_granted",
]


def _jsonable(data: Any) -> Any:
    import json

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def outbox_emit(*, type: str, data: dict[str, Any], partner: Partner | None = None) -> OutboxEvent:
    """Record a webhook event; it is delivered after the surrounding transaction commits."""
    if type not in WEBHOOK_EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    event = OutboxEvent.objects.create(
        public_id=new_public_id("evt", 20), type=type, partner=partner, data=_jsonable(data)
    )
    _schedule_dispatch(event.pk)
    return event


def _schedule_dispatch(event_pk: int) -> None:
    def enqueue_rollback_unsafe() -> None:
        # If the broker is down the event stays pending; the periodic sweep delivers it.
        try:
            from .tasks import webhooks_dispatch_event

            webhooks_dispatch_event.delay(event_pk)
        except Exception:  # noqa: BLE001
            import logging

            logging.getLogger(__name__).warning("could not enqueue webhook dispatch for %s", event_pk)

    transaction.on_commit(enqueue_rollback_unsafe)


def outbox_emit_bulk(
    *, type: str, items: list[dict[str, Any]], partner: Partner | None = None, batch_size: int = 1000
) -> list[OutboxEvent]:
    """outbox_emit for many events of one type (jobs): one INSERT per `batch_size` events and
    one after-commit callback that queues their dispatch, 100 events per broker message (the
    periodic sweep delivers any the broker did not take)."""
    if type not in WEBHOOK_EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    events = OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(public_id=new_public_id("evt", 20), type=type, partner=partner, data=_jsonable(data))
            for data in items
        ],
        batch_size=batch_size,
    )
    pks = [e.pk for e in events if e.pk is not None]
    if pks:
        _schedule_dispatch_many(pks)
    return events


def _schedule_dispatch_many(event_pks: list[int]) -> None:
    def enqueue_rollback_unsafe() -> None:
        try:
            from .tasks import webhooks_dispatch_event

            # One broker message per 100 events (celery.starmap), not one per event.
            webhooks_dispatch_event.chunks([(pk,) for pk in event_pks], 100).apply_async()
        except Exception:  # noqa: BLE001
            import logging

            logging.getLogger(__name__).warning(
                "could not enqueue webhook dispatch for %s events; the sweep delivers them", len(event_pks)
            )

    transaction.on_commit(enqueue_rollback_unsafe)
