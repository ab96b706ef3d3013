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
