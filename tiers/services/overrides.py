"""Manual tier override by an operator, with a reason and an optional expiry (audited)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.services import audit_log_record
from members.models import User

from ..lock_objects import member_tier_lock
from ..models import MemberTier, Tier, TierChange
from ..selectors import tier_effective
from .changes import tier_change_record


def _snapshot(state: MemberTier) -> dict:
    return {
        "override_tier": state.override_tier.code if state.override_tier_id else None,
        "override_reason": state.override_reason,
        "override_until": state.override_until.isoformat() if state.override_until else None,
    }


def _override_write(
    *,
    member,
    state: MemberTier,
    fields: dict,
    before,
    action: str,
    reason: str,
    change_reason: str,
    actor,
    request,
    now,
) -> None:
    """Write the override fields on the locked state, audit before/after, and record the
    change of effective tier if there is one (caller's transaction)."""
    before_snapshot = _snapshot(state)
    MemberTier.objects.filter(pk=state.pk).update(**fields)
    state.refresh_from_db()
    after = tier_effective(member=member, now=now)
    audit_log_record(
        action=action,
        actor_type="operator" if actor is not None else "system",
        actor_user=actor,
        target=member,
        before=before_snapshot,
        after=_snapshot(state),
        request=request,
        note=reason,
    )
    if after != before:
        tier_change_record(
            member=member,
            from_tier=before,
            to_tier=after,
            effective_tier=after,
            source=TierChange.Source.OVERRIDE,
            reason=change_reason,
            actor=str(actor) if actor is not None else "system",
            at=now,
        )


def tier_override_set(
    *, member: User, tier: Tier, reason: str, until: datetime | None = None, actor=None, request=None
) -> MemberTier:
    """Pin the member's effective tier to `tier` until `until` (or until cleared)."""
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["A reason is required."]
    if until is not None and until <= timezone.now():
        errors["until"] = ["Must be in the future."]
    if not tier.is_active:
        errors["tier"] = ["This tier is not active."]
    if errors:
        raise ApplicationError("Invalid override.", errors=errors)
    now = timezone.now()
    with transaction.atomic():
        state = member_tier_lock(member=member)
        before = tier_effective(member=member, now=now)
        _override_write(
            member=member,
            state=state,
            fields={"override_tier": tier, "override_reason": reason[:255], "override_until": until},
            before=before,
            action="tiers.override_set",
            reason=reason,
            change_reason=reason,
            actor=actor,
            request=request,
            now=now,
        )
    return state


def tier_override_clear(*, member: User, reason: str = "", actor=None, request=None, now=None) -> MemberTier:
    now = now or timezone.now()
    with transaction.atomic():
        state = member_tier_lock(member=member)
        if state.override_tier_id is None:
            return state
        before = state.override_tier  # in force until now (an expired one until its expiry)
        _override_write(
            member=member,
            state=state,
            fields={"override_tier": None, "override_reason": "", "override_until": None},
            before=before,
            action="tiers.override_cleared",
            reason=reason,
            change_reason=reason or _("Manual tier override ended"),
            actor=actor,
            request=request,
            now=now,
        )
    return state


def tier_overrides_expire(*, now: datetime | None = None) -> int:
    """End overrides whose expiry has passed (the effective tier already ignores them)."""
    now = now or timezone.now()
    ended = 0
    pks = list(
        MemberTier.objects.filter(override_tier__isnull=False, override_until__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
    for member in User.objects.filter(pk__in=pks).order_by("pk"):
        tier_override_clear(member=member, reason=_("Manual tier override expired"), now=now)
        ended += 1
    return ended
