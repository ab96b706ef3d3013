"""The one place where the tier engine takes row locks (always in primary-key order)."""

from __future__ import annotations

from core.errors import ApplicationError

from .models import MemberTier, Subscription
from .selectors import tier_default


def member_tier_lock(*, member) -> MemberTier:
    """The member's tier state row, created on first use (entry tier) and locked FOR UPDATE."""
    qs = MemberTier.objects.select_for_update(of=("self",)).select_related("tier", "override_tier")
    for _attempt in range(3):
        state = qs.filter(member_id=member.pk).first()
        if state is not None:
            return state
        default = tier_default()
        if default is None:
            raise ApplicationError("No tier is configured.", code="tier_not_configured", status=409)
        # INSERT ... ON CONFLICT DO NOTHING: a concurrent first use waits for the other
        # transaction, then finds its row on the next pass (no savepoint, no error to catch).
        MemberTier.objects.bulk_create([MemberTier(member_id=member.pk, tier=default)], ignore_conflicts=True)
    return qs.get(member_id=member.pk)


def member_tier_lock_range(*, pk_from: int, pk_to: int, due_before):
    """Tier states of a chunk of members due for re-evaluation, locked in pk order."""
    return list(
        MemberTier.objects.select_for_update(of=("self",))
        .filter(member_id__gte=pk_from, member_id__lte=pk_to, evaluate_at__lte=due_before)
        .order_by("member_id")
    )


def subscriptions_lock(*, member) -> list[Subscription]:
    return list(
        Subscription.objects.select_for_update(of=("self",)).filter(member_id=member.pk).order_by("pk")
    )


def member_tiers_lock_many(*, member_pks: list[int]) -> dict[int, MemberTier]:
    """Tier states of many members (entry-tier rows created where missing), locked in pk order."""
    pks = sorted(set(member_pks))
    default = tier_default()
    if default is None:
        raise ApplicationError("No tier is configured.", code="tier_not_configured", status=409)
    MemberTier.objects.bulk_create(
        [MemberTier(member_id=pk, tier=default) for pk in pks], ignore_conflicts=True, batch_size=2000
    )
    states = (
        MemberTier.objects.select_for_update(of=("self",))
        .select_related("tier")
        .filter(member_id__in=pks)
        .order_by("member_id")
    )
    return {s.pk: s for s in states}
