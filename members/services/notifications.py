"""The member's inbox: marking messages read."""

from __future__ import annotations

from django.utils import timezone

from ..models import Notification, User


def notification_mark_read(*, member: User, notification_id: int | None = None) -> int:
    """Mark one of the member's notifications (or all, with no id) read; returns rows changed.

    Filtering by member means another member's id changes nothing.
    """
    qs = Notification.objects.filter(member=member, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
