"""Reads of the tier engine. Other apps call tier_effective / tier_points_multiplier /
tier_discount_rate / tier_benefit_codes; they never read tiers' tables directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db.models import Case, DecimalField, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import rules
from .models import (
    GrowthEntry,
    GrowthRule,
    GrowthSettings,
    MemberTier,
    PaidPlan,
    Subscription,
    Tier,
    TierChange,
)

ONE = Decimal("1")


# --- catalogue ---------------------------------------------------------------------------


def tier_list(*, include_inactive: bool = False) -> list[Tier]:
    qs = Tier.objects.all() if include_inactive else Tier.objects.filter(is_active=True)
    return list(qs.order_by("rank"))


def tier_default() -> Tier | None:
    return (
        Tier.objects.filter(is_default=True).first()
        or Tier.objects.filter(is_active=True).order_by("rank").first()
    )


def paid_plan_list() -> QuerySet[PaidPlan]:
    return PaidPlan.objects.filter(is_active=True).select_related("tier").order_by("price", "code")


def growth_settings() -> GrowthSettings:
    return GrowthSettings.objects.order_by("pk").first() or GrowthSettings()


def growth_for_amount(*, amount: Decimal) -> int:
    """Growth value for a paid amount: growth per CNY (default 1), rounded down; never negative."""
    if amount <= 0:
        return 0
    rate = growth_settings().growth_per_currency_unit
    return int((Decimal(amount) * rate).to_integral_value(rounding=ROUND_DOWN))


def growth_rule_for(*, event_type: str) -> GrowthRule | None:
    return GrowthRule.objects.filter(event_type=event_type, is_active=True).first()


# --- a member's tier ---------------------------------------------------------------------


def member_tier_state(*, member) -> MemberTier | None:
    return MemberTier.objects.select_related("tier", "override_tier").filter(member_id=member.pk).first()


def subscriptions_current(*, member, now: datetime | None = None) -> list[Subscription]:
    """Subscriptions in force now, highest granted tier first."""
    now = now or timezone.now()
    subs = list(
        Subscription.objects.select_related("plan", "plan__tier")
        .filter(member_id=member.pk, status=Subscription.Status.ACTIVE, starts_at__lte=now, ends_at__gt=now)
        .order_by("ends_at")
    )
    subs.sort(key=lambda s: s.plan.tier.rank if s.plan.tier_id else -1, reverse=True)
    return subs


def subscription_paid_until(*, member, now: datetime | None = None) -> datetime | None:
    """End of the member's paid membership including periods queued after the current one."""
    now = now or timezone.now()
    return (
        Subscription.objects.filter(member_id=member.pk, status=Subscription.Status.ACTIVE, ends_at__gt=now)
        .order_by("-ends_at")
        .values_list("ends_at", flat=True)
        .first()
    )


def tier_earned(*, member) -> Tier | None:
    state = member_tier_state(member=member)
    return state.tier if state is not None else tier_default()


def _effective(state: MemberTier | None, subs: list[Subscription], now: datetime) -> Tier | None:
    if state is not None and state.override_active(now):
        return state.override_tier
    earned = state.tier if state is not None else tier_default()
    paid = next((s.plan.tier for s in subs if s.plan.tier_id), None)
    if paid is not None and (earned is None or paid.rank > earned.rank):
        return paid
    return earned


def tier_effective(*, member, now: datetime | None = None) -> Tier | None:
    """The tier that applies now: an active manual override, else the higher of the earned
    tier and an active paid plan's tier. None only if no tier is configured."""
    now = now or timezone.now()
    return _effective(member_tier_state(member=member), subscriptions_current(member=member, now=now), now)


def tier_points_multiplier(*, member) -> Decimal:
    tier = tier_effective(member=member)
    return tier.points_multiplier if tier is not None else ONE


def tier_discount_rate(*, member) -> Decimal:
    """Share of list price the member pays (0.90 = 90%); Decimal("1") with no tier."""
    tier = tier_effective(member=member)
    return tier.discount_rate if tier is not None else ONE


def tier_benefit_codes(*, member) -> list[str]:
    """Benefit codes of the effective tier plus those of every paid plan in force."""
    now = timezone.now()
    subs = subscriptions_current(member=member, now=now)
    return _benefit_codes(_effective(member_tier_state(member=member), subs, now), subs)


def _benefit_codes(tier: Tier | None, subs: list[Subscription]) -> list[str]:
    codes: list[str] = list(tier.benefit_codes) if tier is not None else []
    for sub in subs:
        codes.extend(sub.plan.benefit_codes or [])
    return list(dict.fromkeys(codes))


# --- window sums -------------------------------------------------------------------------


def window_aggregates(windows: list[int], as_of: datetime) -> dict[str, Any]:
    """Conditional sums over GrowthEntry, one triple per window, for .aggregate/.annotate."""
    out: dict[str, Any] = {}
    money = DecimalField(max_digits=14, decimal_places=2)
    for months in windows:
        inside = Q(occurred_at__gte=rules.months_before(as_of, months))
        out[f"g{months}"] = Coalesce(
            Sum(Case(When(inside, then="growth"), default=Value(0), output_field=IntegerField())), Value(0)
        )
        out[f"s{months}"] = Coalesce(
            Sum(Case(When(inside, then="spend"), default=Value(Decimal("0")), output_field=money)),
            Value(Decimal("0")),
            output_field=money,
        )
        out[f"o{months}"] = Coalesce(
            Sum(Case(When(inside, then="orders"), default=Value(0), output_field=IntegerField())), Value(0)
        )
    return out


def sums_from_row(row: dict[str, Any], windows: list[int]) -> rules.Sums:
    return {
        m: rules.WindowSums(
            growth=int(row.get(f"g{m}") or 0),
            spend=Decimal(row.get(f"s{m}") or 0),
            orders=int(row.get(f"o{m}") or 0),
        )
        for m in windows
    }


def member_window_sums(*, member, windows: list[int], as_of: datetime | None = None) -> rules.Sums:
    """Growth, spend and orders in each rolling window ending at `as_of` (one query)."""
    as_of = as_of or timezone.now()
    if not windows:
        return {}
    start = rules.months_before(as_of, max(windows))
    row = GrowthEntry.objects.filter(
        member_id=member.pk, occurred_at__gte=start, occurred_at__lte=as_of
    ).aggregate(**window_aggregates(windows, as_of))
    return sums_from_row(row, windows)


# --- what members and partners see --------------------------------------------------------


@dataclass
class TierSummary:
    tier: Tier | None  # effective
    earned_tier: Tier | None
    state: MemberTier | None
    growth_value: int  # growth in the earned tier's window
    growth_total: int
    spend_in_window: Decimal
    orders_in_window: int
    next_tier: Tier | None
    needed_for_next: int | None
    progress_percent: int
    retention_required: int | None
    retention_spend_required: Decimal | None
    retention_achieved: int
    evaluate_at: datetime | None
    grace_until: datetime | None
    override_active: bool
    subscriptions: list[Subscription] = field(default_factory=list)
    paid_until: datetime | None = None
    tiers: list[Tier] = field(default_factory=list)
    benefit_codes: list[str] = field(default_factory=list)
    member: Any = None


def member_tier_summary(*, member, now: datetime | None = None) -> TierSummary:
    """Everything the member centre and GET /members/{member}/tier show."""
    now = now or timezone.now()
    tiers = tier_list()
    state = member_tier_state(member=member)
    subs = subscriptions_current(member=member, now=now)
    earned = state.tier if state is not None else tier_default()
    effective = _effective(state, subs, now)
    sums = member_window_sums(member=member, windows=rules.windows_of(tiers) or [12], as_of=now)
    own_window = earned.window_months if earned is not None else 12
    mine = sums.get(own_window) or rules.WindowSums()
    next_tier = rules.tier_above(tiers, earned)
    needed = None
    progress = 100
    if next_tier is not None:
        next_sums = sums.get(next_tier.window_months) or rules.WindowSums()
        needed = max(0, next_tier.growth_threshold - next_sums.growth)
        base = earned.growth_threshold if earned is not None else 0
        span = max(1, next_tier.growth_threshold - base)
        progress = max(0, min(100, int((next_sums.growth - base) * 100 / span)))
    retention_growth, retention_spend = rules.retention_requirement(earned) if earned else (None, None)
    return TierSummary(
        tier=effective,
        earned_tier=earned,
        state=state,
        growth_value=mine.growth,
        growth_total=state.growth_total if state is not None else 0,
        spend_in_window=mine.spend,
        orders_in_window=mine.orders,
        next_tier=next_tier,
        needed_for_next=needed,
        progress_percent=progress,
        retention_required=retention_growth,
        retention_spend_required=retention_spend,
        retention_achieved=mine.growth,
        evaluate_at=state.evaluate_at if state is not None else None,
        grace_until=state.grace_until if state is not None else None,
        override_active=bool(state and state.override_active(now)),
        subscriptions=subs,
        paid_until=subscription_paid_until(member=member, now=now) if subs else None,
        tiers=tiers,
        benefit_codes=_benefit_codes(effective, subs),
        member=member,
    )


def growth_entries_of(*, member) -> QuerySet[GrowthEntry]:
    return GrowthEntry.objects.filter(member_id=member.pk).order_by("-occurred_at", "-id")


def tier_changes_of(*, member) -> QuerySet[TierChange]:
    return (
        TierChange.objects.filter(member_id=member.pk)
        .select_related("from_tier", "to_tier")
        .order_by("-created_at", "-id")
    )


def subscriptions_of(*, member) -> QuerySet[Subscription]:
    return Subscription.objects.filter(member_id=member.pk).select_related("plan", "plan__tier")
