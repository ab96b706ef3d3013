"""Adjustments by operators or partners, with a second operator's approval above a threshold."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, ErrorCode, Forbidden
from core.services import audit_log_record
from members.services import member_assert_can_transact

from ..lock_objects import adjustment_lock
from ..models import PointsAdjustment
from .ledger import (
    account_lock_for_member,
    consume_lots,
    earn_available,
    insufficient,
    points_account_ensure,
    points_settings_get,
    post_entry,
)


def _post(adjustment: PointsAdjustment, *, member, actor: str) -> None:
    """Write the adjustment's entry under the account lock (the caller's transaction)."""
    account = account_lock_for_member(member=member)
    points = adjustment.points
    if points > 0:
        earn_available(
            account,
            points=points,
            kind="adjust",
            source_type="adjustment",
            source_id=adjustment.adjustment_id,
            actor=actor,
            reason=adjustment.reason,
        )
    else:
        if account.available < -points:
            raise insufficient(account.available, -points)
        consume_lots(account, -points)
        post_entry(
            account,
            kind="adjust",
            amount=points,
            d_available=points,
            source_type="adjustment",
            source_id=adjustment.adjustment_id,
            actor=actor,
            reason=adjustment.reason,
        )


def points_adjustment_request(
    *, member, points: int, reason: str, requested_by=None, partner=None, request=None
) -> PointsAdjustment:
    """Adjust a balance (+/-) with a reason. Above the approval threshold the adjustment waits
    (status pending) for a different operator's approval; otherwise it posts at once."""
    errors: dict[str, list[str]] = {}
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        errors["points"] = ["A non-zero whole number."]
    if not (reason or "").strip():
        errors["reason"] = ["A reason is required."]
    if errors:
        raise ApplicationError("Invalid adjustment.", errors=errors)
    member_assert_can_transact(member)
    label = (
        f"partner:{partner.name}"
        if partner is not None
        else (f"user:{requested_by.pk}" if requested_by else "system")
    )
    with transaction.atomic():
        account = points_account_ensure(member=member)
        needs_approval = abs(points) > points_settings_get().adjustment_approval_threshold
        adjustment = PointsAdjustment.objects.create(
            account=account,
            points=points,
            reason=reason.strip()[:255],
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
            requested_by_label=label,
            status=PointsAdjustment.Status.PENDING if needs_approval else PointsAdjustment.Status.POSTED,
            decided_at=None if needs_approval else timezone.now(),
        )
        if not needs_approval:
            _post(adjustment, member=member, actor=label)
        audit_log_record(
            action="points.adjustment_requested" if needs_approval else "points.adjustment_posted",
            actor_type="partner" if partner is not None else ("operator" if requested_by else "system"),
            actor_user=requested_by,
            actor_label=label,
            target=member,
            after={"adjustment_id": adjustment.adjustment_id, "points": points, "reason": adjustment.reason},
            request=request,
        )
    return adjustment


def points_adjustment_approve(*, adjustment: PointsAdjustment, approver, request=None) -> PointsAdjustment:
    """A second operator (staff, not the requester) approves: the adjustment posts."""
    if not getattr(approver, "is_staff", False):
        raise Forbidden("Only operators can approve adjustments.")
    with transaction.atomic():
        adjustment = adjustment_lock(adjustment_pk=adjustment.pk)
        if adjustment.status != PointsAdjustment.Status.PENDING:
            raise Conflict(f"Adjustment {adjustment.adjustment_id} is already {adjustment.status}.")
        if adjustment.requested_by_id is not None and adjustment.requested_by_id == approver.pk:
            raise Forbidden(
                "A second operator must approve this adjustment.", code=ErrorCode.APPROVAL_REQUIRED
            )
        member = adjustment.account.member
        member_assert_can_transact(member)
        _post(adjustment, member=member, actor=f"user:{approver.pk}")
        PointsAdjustment.objects.filter(pk=adjustment.pk).update(
            status=PointsAdjustment.Status.POSTED, decided_by=approver, decided_at=timezone.now()
        )
        audit_log_record(
            action="points.adjustment_approved",
            actor_type="operator",
            actor_user=approver,
            target=member,
            after={"adjustment_id": adjustment.adjustment_id, "points": adjustment.points},
            request=request,
        )
        adjustment.refresh_from_db()
    return adjustment


def points_adjustment_reject(
    *, adjustment: PointsAdjustment, approver, note: str = "", request=None
) -> PointsAdjustment:
    if not getattr(approver, "is_staff", False):
        raise Forbidden("Only operators can reject adjustments.")
    with transaction.atomic():
        adjustment = adjustment_lock(adjustment_pk=adjustment.pk)
        if adjustment.status != PointsAdjustment.Status.PENDING:
            raise Conflict(f"Adjustment {adjustment.adjustment_id} is already {adjustment.status}.")
        PointsAdjustment.objects.filter(pk=adjustment.pk).update(
            status=PointsAdjustment.Status.REJECTED, decided_by=approver, decided_at=timezone.now()
        )
        audit_log_record(
            action="points.adjustment_rejected",
            actor_type="operator",
            actor_user=approver,
            target_type="points.pointsadjustment",
            target_id=adjustment.adjustment_id,
            note=note,
            request=request,
        )
        adjustment.refresh_from_db()
    return adjustment
