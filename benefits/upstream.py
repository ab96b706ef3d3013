"""What benefits reads from the apps below it (tiers, points), in one place.

Only documented selectors of those apps are called; their tables are never read directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone


@dataclass(frozen=True)
class TierInfo:
    code: str | None
    name: str
    name_en: str
    discount_rate: Decimal
    benefit_sources: dict[str, str] = field(default_factory=dict)  # code -> "tier" | "paid_plan"

    @property
    def benefit_codes(self) -> list[str]:
        return list(self.benefit_sources)

    @property
    def free_shipping(self) -> bool:
        return "free_shipping" in self.benefit_sources


def member_tier(member) -> TierInfo:
    """The member's effective tier, member price rate and benefit codes with their source."""
    from tiers import selectors as tiers

    now = timezone.now()
    effective = tiers.tier_effective(member=member, now=now)
    codes = tiers.tier_benefit_codes(member=member)
    state = tiers.member_tier_state(member=member)
    earned = tiers.tier_earned(member=member)
    own = set()
    if effective is not None and (
        (state is not None and state.override_active(now))
        or (earned is not None and effective.pk == earned.pk)
    ):
        own = set(effective.benefit_codes or [])
    elif earned is not None:
        own = set(earned.benefit_codes or [])
    sources = {code: ("tier" if code in own else "paid_plan") for code in codes}
    if effective is None:
        return TierInfo(None, "", "", Decimal("1"), sources)
    return TierInfo(effective.code, effective.name, effective.name_en, effective.discount_rate, sources)


def member_tier_code(member) -> str | None:
    from tiers import selectors as tiers

    tier = tiers.tier_effective(member=member)
    return tier.code if tier is not None else None


def tier_catalogue() -> list:
    """Active tiers, lowest rank first (for the comparison page)."""
    from tiers import selectors as tiers

    return tiers.tier_list()


def points_available(member) -> int:
    from points import selectors as points

    return int(points.points_balance(member=member)["available"])


def points_settings() -> tuple[int, Decimal]:
    """(points_per_yuan, max_order_ratio)"""
    from points import selectors as points

    per_yuan, ratio = points.points_redemption_settings()
    return int(per_yuan), Decimal(str(ratio))
