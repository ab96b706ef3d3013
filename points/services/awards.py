"""Direct awards by other services (campaign rewards, check-in streaks, adopted feedback)."""

from __future__ import annotations

from django.db import transaction

from core.errors import ApplicationError
from members.services import member_assert_can_transact

from ..models import PointsEntry
from .ledger import account_lock_for_member, actor_label, earn_available, entry_exists


def points_award(
    *, member, points: int, source_type: str, source_id: str, reason: str = "", actor=None
) -> PointsEntry:
    """Credit available points once per (source_type, source_id); a replay returns the first entry."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ApplicationError("Points must be a positive whole number.", errors={"points": ["Must be > 0."]})
    if not source_type or not str(source_id):
        raise ApplicationError("A source is required.", errors={"source_id": ["Required."]})
    existing = entry_exists(kind="earn", source_type=source_type, source_id=str(source_id))
    if existing is not None:
        return existing
    member_assert_can_transact(member)
    with transaction.atomic():
        account = account_lock_for_member(member=member)
        existing = entry_exists(kind="earn", source_type=source_type, source_id=str(source_id))
        if existing is not None:
            return existing
        return earn_available(
            account,
            points=points,
            kind="earn",
            source_type=source_type,
            source_id=str(source_id),
            actor=actor_label(actor),
            reason=reason,
        )
