"""Checkout holds (积分抵现): hold N points, then capture or release; stale holds expire."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import ApplicationError, Conflict, ErrorCode, NotFound
from members.services import member_assert_can_transact

from ..lock_objects import account_lock, hold_lock
from ..models import HoldAllocation, PointsHold, PointsLot
from .ledger import (
    LotTake,
    account_lock_for_member,
    actor_label,
    consume_lots,
    expire_returned_points,
    insufficient,
    points_settings_get,
    post_entry,
)

MAX_HOLD_SECONDS = 7 * 24 * 3600


def points_hold_create(
    *,
    member,
    points: int,
    reference: str = "",
    expires_in_seconds: int | None = None,
    partner=None,
    actor=None,
) -> PointsHold:
    """Move `points` from available to held for a checkout; 409 insufficient_points if short."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ApplicationError("Points must be a positive whole number.", errors={"points": ["Must be > 0."]})
    if expires_in_seconds is not None and not (1 <= expires_in_seconds <= MAX_HOLD_SECONDS):
        raise ApplicationError(
            "expires_in_seconds is out of range.",
            errors={"expires_in_seconds": [f"Between 1 and {MAX_HOLD_SECONDS}."]},
        )
    member_assert_can_transact(member)
    with transaction.atomic():
        account = account_lock_for_member(member=member)
        if account.available < points:
            raise insufficient(account.available, points)
        lifetime = expires_in_seconds or points_settings_get().hold_default_seconds
        hold = PointsHold.objects.create(
            account=account,
            partner=partner,
            points=points,
            reference=reference[:100],
            expires_at=timezone.now() + timedelta(seconds=lifetime),
        )
        takes = consume_lots(account, points)
        HoldAllocation.objects.bulk_create(
            [HoldAllocation(hold=hold, lot=take.lot, points=take.points) for take in takes]
        )
        post_entry(
            account,
            kind="hold",
            amount=-points,
            d_available=-points,
            d_held=points,
            source_type="hold",
            source_id=hold.hold_id,
            actor=actor_label(actor),
            reason=reference[:255],
        )
    return hold


def _hold_for_settlement(*, hold_id: str, partner) -> tuple:
    """Lock the hold's account, then the hold (lock order: account → hold)."""
    hold = PointsHold.objects.filter(hold_id=hold_id).first()
    if hold is None or (partner is not None and hold.partner_id not in (None, partner.pk)):
        raise NotFound(f"No hold {hold_id!r}.", code="hold_not_found")
    account = account_lock(account_pk=hold.account_id)
    hold = hold_lock(hold_pk=hold.pk)
    return account, hold


def _not_active(hold: PointsHold) -> Conflict:
    return Conflict(
        f"Hold {hold.hold_id} is {hold.status if hold.status != 'active' else 'expired'}.",
        code=ErrorCode.HOLD_NOT_ACTIVE,
        extra={"hold_status": hold.status},
    )


def _give_back(account, hold: PointsHold, points: int, *, kind_status: str, actor: str, reason: str) -> None:
    """Return `points` of a hold to its lots (latest-expiring first) and to available."""
    if points <= 0:
        return
    allocations = list(
        hold.allocations.select_related("lot").order_by(
            F("lot__expires_at").desc(nulls_first=True), "-lot_id"
        )
    )
    need = points
    takes: list[LotTake] = []
    for allocation in allocations:
        if need <= 0:
            break
        back = min(allocation.points, need)
        PointsLot.objects.filter(pk=allocation.lot_id).update(remaining=F("remaining") + back)
        takes.append(LotTake(allocation.lot, back))
        need -= back
    post_entry(
        account,
        kind="release",
        amount=points,
        d_held=-points,
        d_available=points,
        source_type="hold",
        source_id=hold.hold_id,
        actor=actor,
        reason=reason or kind_status,
    )
    expire_returned_points(account, takes, source_type="hold", source_id=hold.hold_id)


def points_hold_capture(*, hold_id: str, points: int | None = None, partner=None, actor=None) -> PointsHold:
    """Spend held points (all by default); capturing fewer releases the rest."""
    if points is not None and (not isinstance(points, int) or isinstance(points, bool) or points <= 0):
        raise ApplicationError("Points must be a positive whole number.", errors={"points": ["Must be > 0."]})
    with transaction.atomic():
        account, hold = _hold_for_settlement(hold_id=hold_id, partner=partner)
        now = timezone.now()
        if hold.status != PointsHold.Status.ACTIVE or hold.expires_at <= now:
            raise _not_active(hold)
        capture = hold.points if points is None else points
        if capture > hold.points:
            raise ApplicationError(
                f"Cannot capture more than the {hold.points} points held.",
                errors={"points": [f"At most {hold.points}."]},
            )
        label = actor_label(actor)
        post_entry(
            account,
            kind="capture",
            amount=-capture,
            d_held=-capture,
            spent=capture,
            source_type="hold",
            source_id=hold.hold_id,
            actor=label,
            reason=hold.reference,
        )
        _give_back(
            account, hold, hold.points - capture, kind_status="partial capture", actor=label, reason=""
        )
        PointsHold.objects.filter(pk=hold.pk).update(
            status=PointsHold.Status.CAPTURED, captured_points=capture, settled_at=now
        )
        hold.refresh_from_db()
    return hold


def points_hold_release(*, hold_id: str, partner=None, actor=None) -> PointsHold:
    """Give all held points back."""
    with transaction.atomic():
        account, hold = _hold_for_settlement(hold_id=hold_id, partner=partner)
        now = timezone.now()
        if hold.status != PointsHold.Status.ACTIVE or hold.expires_at <= now:
            raise _not_active(hold)
        _give_back(account, hold, hold.points, kind_status="released", actor=actor_label(actor), reason="")
        PointsHold.objects.filter(pk=hold.pk).update(status=PointsHold.Status.RELEASED, settled_at=now)
        hold.refresh_from_db()
    return hold


def points_hold_expire(*, hold_pk: int) -> bool:
    """Release one hold whose time is up. Idempotent: False when it was already settled."""
    with transaction.atomic():
        hold = PointsHold.objects.filter(pk=hold_pk).first()
        if hold is None:
            return False
        account = account_lock(account_pk=hold.account_id)
        hold = hold_lock(hold_pk=hold_pk)
        now = timezone.now()
        if hold.status != PointsHold.Status.ACTIVE or hold.expires_at > now:
            return False
        _give_back(account, hold, hold.points, kind_status="expired", actor="system", reason="hold expired")
        PointsHold.objects.filter(pk=hold.pk).update(status=PointsHold.Status.EXPIRED, settled_at=now)
    return True
