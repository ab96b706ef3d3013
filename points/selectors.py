"""Reads of the points domain."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.errors import NotFound

from .models import (
    EarningRule,
    Order,
    PointsAccount,
    PointsEntry,
    PointsHold,
    PointsLot,
    PointsSettings,
    PromoMultiplier,
    Reward,
    RewardRedemption,
)


def points_settings() -> PointsSettings:
    from .services.ledger import points_settings_get

    return points_settings_get()


def points_redemption_settings() -> tuple[int, Decimal]:
    """(points_per_yuan, max_order_ratio): 100 points = 1.00 CNY; at most ratio × order in points."""
    row = points_settings()
    return int(row.points_per_yuan), Decimal(row.max_order_ratio)


def points_account_of(*, member) -> PointsAccount | None:
    return PointsAccount.objects.filter(member=member).first()


def points_balance(*, member) -> dict[str, int]:
    """{available, pending, held, debt} (zeros for a member who never earned)."""
    row = (
        PointsAccount.objects.filter(member=member).values("available", "pending", "held", "debt").first()
        if getattr(member, "pk", None)
        else None
    )
    if row is None:
        return {"available": 0, "pending": 0, "held": 0, "debt": 0}
    return {k: int(v) for k, v in row.items()}


def points_expiring(*, member, within_days: int | None = None, limit: int = 12) -> list[dict]:
    """Available points by expiry day, soonest first: [{points, expires_at}]."""
    qs = PointsLot.objects.filter(
        account__member=member, state=PointsLot.State.AVAILABLE, remaining__gt=0, expires_at__isnull=False
    )
    if within_days is not None:
        qs = qs.filter(expires_at__lte=timezone.now() + timedelta(days=within_days))
    rows = qs.values("expires_at").annotate(points=Sum("remaining")).order_by("expires_at")[: limit * 4]
    merged: dict = {}
    for row in rows:
        merged[row["expires_at"]] = merged.get(row["expires_at"], 0) + int(row["points"])
    return [{"points": p, "expires_at": at} for at, p in list(merged.items())[:limit]]


def points_entries(
    *,
    member,
    kind: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> QuerySet[PointsEntry]:
    """The member's ledger, newest first."""
    qs = PointsEntry.objects.filter(account__member=member).order_by("-id")
    if kind:
        qs = qs.filter(kind=kind)
    if date_from:
        qs = qs.filter(created_at__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__lt=date_to)
    return qs


def points_hold_get(*, hold_id: str) -> PointsHold:
    hold = PointsHold.objects.select_related("account__member").filter(hold_id=hold_id).first()
    if hold is None:
        raise NotFound(f"No hold {hold_id!r}.", code="hold_not_found")
    return hold


def rewards_available(*, now: datetime | None = None) -> QuerySet[Reward]:
    now = now or timezone.now()
    return (
        Reward.objects.filter(is_active=True)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("sort_order", "points_price", "id")
    )


def reward_redemptions_of(*, member) -> QuerySet[RewardRedemption]:
    return (
        RewardRedemption.objects.filter(account__member=member)
        .select_related("reward")
        .order_by("-created_at")
    )


def earning_rules_active(*, event_type: str, at: datetime) -> list[EarningRule]:
    return list(
        EarningRule.objects.filter(is_active=True, event_type=event_type)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .order_by("priority", "id")
    )


def promo_multiplier_for(*, event_type: str, at: datetime) -> Decimal:
    """The highest active promotional multiplier for this event type at `at` (1 when none)."""
    best = Decimal("1")
    for promo in PromoMultiplier.objects.filter(is_active=True, starts_at__lte=at, ends_at__gt=at):
        if promo.event_types and event_type not in promo.event_types:
            continue
        best = max(best, promo.multiplier)
    return best


def orders_of(*, member) -> QuerySet[Order]:
    return Order.objects.filter(member=member).prefetch_related("items").order_by("-paid_at")


def points_earned_by_day(*, member, days: int = 30) -> list[dict]:
    return list(
        PointsEntry.objects.filter(
            account__member=member, created_at__gte=timezone.now() - timedelta(days=days)
        )
        .filter(delta_available__gt=0)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(points=Sum("delta_available"))
        .order_by("day")
    )
