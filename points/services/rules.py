"""Earning rules: which rules an event meets and how many points each gives.

Points = floor(base × rate × tier multiplier × promotional multiplier) per rule, within the
rule's per-day / per-month caps per member. What each rule gave is stored (RuleAward), so a
refund reverses exactly that, never a recomputation under today's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core.errors import ApplicationError
from core.money import floor_money

from ..models import EarningRule, PromoMultiplier, RuleAward
from ..selectors import earning_rules_active, promo_multiplier_for
from .ledger import account_lock_for_member, actor_label, earn_available, entry_exists

ONE = Decimal("1")


@dataclass
class Candidate:
    rule: EarningRule
    base_amount: Decimal
    multiplier: Decimal
    points: int


def _tier_multiplier(member) -> Decimal:
    from tiers.selectors import tier_points_multiplier

    return Decimal(tier_points_multiplier(member=member))


def _day_month_bounds(at: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    local = timezone.localtime(at)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return day, day + timedelta(days=1), month, next_month


def eligible_amount(*, amount: Decimal, items: list[dict], rule: EarningRule) -> Decimal:
    """The share of the paid amount that counts for the rule (excluded categories/SKUs out).
    Item prices may sum to more than the paid amount (discounts): the paid amount is split
    in proportion to the lines."""
    if not items:
        return amount
    excluded_categories = set(rule.excluded_categories or [])
    excluded_skus = set(rule.excluded_skus or [])
    total = sum((Decimal(i["unit_price"]) * int(i["quantity"]) for i in items), Decimal("0"))
    if total <= 0:
        return amount if not (excluded_categories or excluded_skus) else Decimal("0.00")
    eligible = sum(
        (
            Decimal(i["unit_price"]) * int(i["quantity"])
            for i in items
            if i.get("category", "") not in excluded_categories and i["sku"] not in excluded_skus
        ),
        Decimal("0"),
    )
    if eligible == total:
        return amount
    return floor_money(amount * eligible / total)


def rules_evaluate(
    *,
    account,
    member,
    event_type: str,
    at: datetime,
    amount: Decimal | None = None,
    items: list[dict] | None = None,
    rules: list[EarningRule] | None = None,
    tier_multiplier: Decimal | None = None,
    promo_multiplier: Decimal | None = None,
) -> list[Candidate]:
    """The points each active rule gives for this event (account must be locked for caps).

    `rules`, `tier_multiplier` and `promo_multiplier` may be given by a caller that already
    knows them (bulk import); otherwise they are read here.
    """
    rules = earning_rules_active(event_type=event_type, at=at) if rules is None else rules
    if not rules:
        return []
    if tier_multiplier is not None:
        tier_mult = tier_multiplier
    else:
        tier_mult = _tier_multiplier(member) if any(r.apply_tier_multiplier for r in rules) else ONE
    if promo_multiplier is not None:
        promo_mult = promo_multiplier
    else:
        promo_mult = (
            promo_multiplier_for(event_type=event_type, at=at)
            if any(r.apply_promo_multiplier for r in rules)
            else ONE
        )
    day_start, day_end, month_start, month_end = _day_month_bounds(at)
    capped = [
        r
        for r in rules
        if r.max_times_per_day or r.max_times_per_month or r.max_points_per_day or r.max_points_per_month
    ]
    usage: dict[int, dict[str, int]] = {}
    if capped:
        base = RuleAward.objects.filter(account=account, rule__in=capped)
        for row in (
            base.filter(awarded_at__gte=day_start, awarded_at__lt=day_end)
            .values("rule_id")
            .annotate(n=Count("id"), p=Sum("points"))
        ):
            usage.setdefault(row["rule_id"], {}).update(day_n=row["n"], day_p=row["p"] or 0)
        for row in (
            base.filter(awarded_at__gte=month_start, awarded_at__lt=month_end)
            .values("rule_id")
            .annotate(n=Count("id"), p=Sum("points"))
        ):
            usage.setdefault(row["rule_id"], {}).update(month_n=row["n"], month_p=row["p"] or 0)
    out: list[Candidate] = []
    for rule in rules:
        multiplier = (tier_mult if rule.apply_tier_multiplier else ONE) * (
            promo_mult if rule.apply_promo_multiplier else ONE
        )
        if rule.mode == EarningRule.Mode.PER_UNIT:
            if amount is None:
                continue
            if amount < rule.min_order_amount:
                continue
            base_amount = eligible_amount(amount=amount, items=items or [], rule=rule)
            raw = base_amount * rule.points_per_unit * multiplier
        else:
            if amount is not None and amount < rule.min_order_amount:
                continue
            base_amount = amount if amount is not None else Decimal("0.00")
            raw = Decimal(rule.fixed_points) * multiplier
        points = int(raw.to_integral_value(rounding=ROUND_DOWN))
        used = usage.get(rule.pk, {})
        if rule.max_times_per_day is not None and used.get("day_n", 0) >= rule.max_times_per_day:
            continue
        if rule.max_times_per_month is not None and used.get("month_n", 0) >= rule.max_times_per_month:
            continue
        if rule.max_points_per_day is not None:
            points = min(points, rule.max_points_per_day - used.get("day_p", 0))
        if rule.max_points_per_month is not None:
            points = min(points, rule.max_points_per_month - used.get("month_p", 0))
        if points <= 0:
            continue
        out.append(Candidate(rule, base_amount, multiplier.quantize(Decimal("0.001")), points))
    return out


def rules_in_window(rules: list[EarningRule], at: datetime) -> list[EarningRule]:
    """Of preloaded active rules, those valid at `at` (same test as earning_rules_active)."""
    return [
        r
        for r in rules
        if (r.starts_at is None or r.starts_at <= at) and (r.ends_at is None or r.ends_at > at)
    ]


def promo_in_window(promos: list[PromoMultiplier], *, event_type: str, at: datetime) -> Decimal:
    """Of preloaded active promotions, the highest multiplier at `at` (same as promo_multiplier_for)."""
    best = ONE
    for promo in promos:
        if promo.starts_at <= at < promo.ends_at and (
            not promo.event_types or event_type in promo.event_types
        ):
            best = max(best, promo.multiplier)
    return best


def has_caps(rule: EarningRule) -> bool:
    return bool(
        rule.max_times_per_day
        or rule.max_times_per_month
        or rule.max_points_per_day
        or rule.max_points_per_month
    )


def awards_record(
    *, account, candidates: list[Candidate], source_type: str, source_id: str, at: datetime, order=None
) -> int:
    RuleAward.objects.bulk_create(
        [
            RuleAward(
                rule=c.rule,
                account=account,
                order=order,
                source_type=source_type,
                source_id=str(source_id),
                base_amount=c.base_amount,
                multiplier=c.multiplier,
                points=c.points,
                awarded_at=at,
            )
            for c in candidates
        ]
    )
    return sum(c.points for c in candidates)


def points_rules_apply(
    *,
    member,
    event_type: str,
    source_type: str,
    source_id: str,
    at: datetime | None = None,
    amount: Decimal | None = None,
    actor=None,
    reason: str = "",
) -> int:
    """Apply the earning rules of a non-order event and credit the points at once.

    Idempotent by (source_type, source_id). Returns the points given (0 for a frozen or
    closed member, no matching rule, caps used up, or a replay).
    """
    if member.status != member.Status.ACTIVE:
        return 0
    at = at or timezone.now()
    with transaction.atomic():
        account = account_lock_for_member(member=member)
        if entry_exists(kind="earn", source_type=source_type, source_id=str(source_id)) is not None:
            return 0
        if RuleAward.objects.filter(source_type=source_type, source_id=str(source_id)).exists():
            return 0
        candidates = rules_evaluate(
            account=account, member=member, event_type=event_type, at=at, amount=amount
        )
        total = awards_record(
            account=account, candidates=candidates, source_type=source_type, source_id=source_id, at=at
        )
        if total > 0:
            earn_available(
                account,
                points=total,
                kind="earn",
                source_type=source_type,
                source_id=str(source_id),
                actor=actor_label(actor),
                reason=reason or ", ".join(c.rule.name for c in candidates)[:255],
            )
    return total


def points_promo_multiplier_create(
    *,
    name: str,
    multiplier: Decimal,
    starts_at: datetime,
    ends_at: datetime,
    event_types: list[str] | None = None,
    source: str = "",
) -> PromoMultiplier:
    """A promotional earning multiplier (e.g. double points for 双11), used by campaigns."""
    errors: dict[str, list[str]] = {}
    if not isinstance(multiplier, Decimal) or multiplier < 1 or multiplier > 100:
        errors["multiplier"] = ["A Decimal between 1 and 100."]
    if not starts_at or not ends_at or ends_at <= starts_at:
        errors["ends_at"] = ["The end must be after the start."]
    if event_types is not None and not all(isinstance(t, str) and t for t in event_types):
        errors["event_types"] = ["A list of event type names."]
    if not (name or "").strip():
        errors["name"] = ["Required."]
    if errors:
        raise ApplicationError("Invalid promotional multiplier.", errors=errors)
    return PromoMultiplier.objects.create(
        name=name.strip()[:100],
        multiplier=multiplier,
        starts_at=starts_at,
        ends_at=ends_at,
        event_types=list(event_types or []),
        source=source[:100],
    )


def points_promo_multiplier_deactivate(*, promo: PromoMultiplier) -> PromoMultiplier:
    PromoMultiplier.objects.filter(pk=promo.pk).update(is_active=False)
    promo.is_active = False
    return promo
