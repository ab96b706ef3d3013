"""Pure qualification rules shared by the at-once upgrade, the per-member and the chunked job.

No database access here: callers pass the tiers and the member's sums per window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from .models import Tier


def months_before(moment: datetime, months: int) -> datetime:
    """Start of a rolling window of `months` calendar months ending at `moment` (inclusive)."""
    return moment - relativedelta(months=months)


def months_after(moment: datetime, months: int) -> datetime:
    return moment + relativedelta(months=months)


@dataclass(frozen=True)
class WindowSums:
    growth: int = 0
    spend: Decimal = Decimal("0")
    orders: int = 0


# window_months -> sums over [as_of - window_months, as_of]
Sums = dict[int, WindowSums]


def windows_of(tiers: Iterable[Tier]) -> list[int]:
    return sorted({t.window_months for t in tiers})


def _sums(tier: Tier, sums: Sums) -> WindowSums:
    return sums.get(tier.window_months) or WindowSums()


def tier_qualifies(tier: Tier, sums: Sums) -> bool:
    """Does a member with these sums reach `tier`?"""
    if tier.is_default or tier.rank == 0:
        return True
    s = _sums(tier, sums)
    by_growth = s.growth >= tier.growth_threshold
    has_spend_rule = tier.qualifying_spend is not None or tier.qualifying_orders is not None
    by_spend = has_spend_rule and (
        (tier.qualifying_spend is None or s.spend >= tier.qualifying_spend)
        and (tier.qualifying_orders is None or s.orders >= tier.qualifying_orders)
    )
    mode = tier.qualification_mode
    if mode == Tier.Qualification.GROWTH:
        return by_growth
    if mode == Tier.Qualification.SPEND_AND_ORDERS:
        return by_spend
    return by_growth or by_spend


def tier_retained(tier: Tier, sums: Sums) -> bool:
    """Does a member holding `tier` keep it at re-evaluation (保级)?"""
    if tier.is_default or tier.rank == 0:
        return True
    if tier_qualifies(tier, sums):
        return True
    if tier.retention_growth is None and tier.retention_spend is None:
        return False
    s = _sums(tier, sums)
    return (tier.retention_growth is None or s.growth >= tier.retention_growth) and (
        tier.retention_spend is None or s.spend >= tier.retention_spend
    )


def retention_requirement(tier: Tier) -> tuple[int | None, Decimal | None]:
    """(growth, spend) needed in the window to keep `tier`; re-qualifying always suffices."""
    if tier.is_default or tier.rank == 0:
        return 0, None
    if tier.retention_growth is None and tier.retention_spend is None:
        if tier.qualification_mode == Tier.Qualification.SPEND_AND_ORDERS:
            return None, tier.qualifying_spend
        return tier.growth_threshold, None
    return tier.retention_growth, tier.retention_spend


def highest_qualified(tiers: Sequence[Tier], sums: Sums) -> Tier | None:
    """The highest-ranked tier these sums reach (tiers in any order)."""
    best = None
    for tier in tiers:
        if tier_qualifies(tier, sums) and (best is None or tier.rank > best.rank):
            best = tier
    return best


def tier_below(tiers: Sequence[Tier], tier: Tier) -> Tier | None:
    lower = [t for t in tiers if t.rank < tier.rank]
    return max(lower, key=lambda t: t.rank) if lower else None


def tier_above(tiers: Sequence[Tier], tier: Tier | None) -> Tier | None:
    rank = tier.rank if tier is not None else -1
    higher = [t for t in tiers if t.rank > rank]
    return min(higher, key=lambda t: t.rank) if higher else None


class Outcome(StrEnum):
    UPGRADED = "upgraded"
    RETAINED = "retained"
    GRACE_STARTED = "grace_started"
    IN_GRACE = "in_grace"
    DOWNGRADED = "downgraded"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    tier: Tier  # the earned tier after the decision
    evaluate_at: datetime | None
    grace_until: datetime | None


def next_evaluation(tier: Tier, start: datetime) -> datetime | None:
    """The entry tier is never re-evaluated (nothing to lose)."""
    if tier.is_default or tier.rank == 0:
        return None
    return months_after(start, tier.window_months)


def reevaluation_decide(
    *, tiers: Sequence[Tier], current: Tier, grace_until: datetime | None, sums: Sums, as_of: datetime
) -> Decision:
    """What re-evaluation does to one member whose evaluate_at has come.

    - qualifies for a higher tier: upgrade (normally done at once when growth arrives);
    - keeps the current tier: retained, next evaluation one window later, grace cleared;
    - fails, no grace yet: grace starts (warning), unless the tier has no grace days;
    - fails, grace still running: nothing;
    - fails, grace over: down ONE tier.
    """
    best = highest_qualified(tiers, sums)
    if best is not None and best.rank > current.rank:
        return Decision(Outcome.UPGRADED, best, next_evaluation(best, as_of), None)
    if tier_retained(current, sums):
        return Decision(Outcome.RETAINED, current, next_evaluation(current, as_of), None)
    if grace_until is None and current.grace_days > 0:
        until = as_of + timedelta(days=current.grace_days)
        # Checked again when the grace ends; growth that restores retention clears it at once.
        return Decision(Outcome.GRACE_STARTED, current, until, until)
    if grace_until is not None and grace_until > as_of:
        return Decision(Outcome.IN_GRACE, current, grace_until, grace_until)
    lower = tier_below(tiers, current) or current
    return Decision(Outcome.DOWNGRADED, lower, next_evaluation(lower, as_of), None)
