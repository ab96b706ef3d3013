"""Domain events: how a lower app tells higher ones what happened without importing them.

A higher app subscribes in its AppConfig.ready(); a lower app's service publishes inside its
transaction. Handlers run synchronously in the publisher's transaction, so what they write
commits or rolls back with the change that caused it. Work that must happen after commit
(tasks, messages) is scheduled by the handler with transaction.on_commit or the outbox.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

# Known events and the keyword arguments they carry.
MEMBER_REGISTERED = "member_registered"  # member, channel, referrer (member or None)
MEMBER_VERIFIED = "member_verified"  # member, level ("contact", "real_name", "qualification")
MEMBER_PROFILE_COMPLETED = "member_profile_completed"  # member
MEMBER_STATUS_CHANGED = "member_status_changed"  # member, old, new, reason
MEMBER_CLOSED = "member_closed"  # member
ORDER_PAID = "order_paid"  # order, member
ORDER_REFUNDED = "order_refunded"  # order, refund, member
ORDER_COMPLETED = "order_completed"  # order, member
BEHAVIOUR_EVENT = "behaviour_event"  # event, member
POINTS_EARNED = "points_earned"  # member, points, source
TIER_CHANGED = "tier_changed"  # member, old_tier, new_tier, reason
FEEDBACK_ADOPTED = "feedback_adopted"  # member, ticket, points (a suggestion adopted; points may reward it)

Handler = Callable[..., Any]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(event: str, handler: Handler) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def unsubscribe(event: str, handler: Handler) -> None:
    if handler in _handlers[event]:
        _handlers[event].remove(handler)


def publish(event: str, /, **payload: Any) -> list[Any]:
    """Call every handler of `event`; an exception propagates and rolls back the caller."""
    return [handler(**payload) for handler in list(_handlers[event])]


def handlers(event: str) -> list[Handler]:
    return list(_handlers[event])
