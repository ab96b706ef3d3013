"""Growth value (成长值): the ledger, and the upgrade that happens at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.money import format_money
from members.models import User
from members.services import member_assert_can_transact

from .. import rules
from ..lock_objects import member_tier_lock
from ..models import GrowthEntry, MemberTier, Subscription, Tier, TierChange
from ..selectors import _effective, growth_rule_for, member_window_sums, subscriptions_current, tier_list
from .changes import tier_change_record

ACTIVITY_PREFIX = "activity:"


def _validate(*, growth, spend, orders, source_type, source_id, occurred_at) -> None:
    errors: dict[str, list[str]] = {}
    if isinstance(growth, bool) or not isinstance(growth, int):
        errors["growth"] = ["Must be an integer."]
    if not isinstance(spend, Decimal) or not spend.is_finite() or spend != spend.quantize(Decimal("0.01")):
        errors["spend"] = ["Must be a Decimal with at most 2 places."]
    if isinstance(orders, bool) or not isinstance(orders, int):
        errors["orders"] = ["Must be an integer."]
    if not source_type or len(source_type) > 40:
        errors["source_type"] = ["Required, at most 40 characters."]
    if not source_id or len(str(source_id)) > 128:
        errors["source_id"] = ["Required, at most 128 characters."]
    if not isinstance(occurred_at, datetime) or timezone.is_naive(occurred_at):
        errors["occurred_at"] = ["Must be a timezone-aware datetime."]
    if errors:
        raise ApplicationError("Invalid growth entry.", errors=errors)


def growth_record(
    *,
    member: User,
    growth: int,
    spend: Decimal = Decimal("0"),
    orders: int = 0,
    source_type: str,
    source_id: str,
    occurred_at: datetime,
    reason: str = "",
) -> GrowthEntry | None:
    """Append to the growth ledger and upgrade at once if the member now qualifies.

    Idempotent by (source_type, source_id): a second call returns None and changes nothing.
    Negative values (refunds, source_type "refund") lower the sums but never downgrade:
    downgrades happen only at re-evaluation.
    """
    _validate(
        growth=growth,
        spend=spend,
        orders=orders,
        source_type=source_type,
        source_id=source_id,
        occurred_at=occurred_at,
    )
    source_id = str(source_id)
    gain = growth > 0 or spend > 0 or orders > 0
    if gain:
        member_assert_can_transact(member)
    with transaction.atomic():
        if GrowthEntry.objects.filter(source_type=source_type, source_id=source_id).exists():
            return None
        state = member_tier_lock(member=member)
        try:
            with transaction.atomic():
                entry = GrowthEntry.objects.create(
                    member_id=member.pk,
                    growth=growth,
                    spend=spend,
                    orders=orders,
                    source_type=source_type,
                    source_id=source_id,
                    occurred_at=occurred_at,
                    reason=reason[:255],
                )
        except IntegrityError:
            return None  # the same source recorded concurrently
        MemberTier.objects.filter(pk=state.pk).update(
            growth_total=F("growth_total") + growth,
            spend_total=F("spend_total") + spend,
            orders_total=F("orders_total") + orders,
        )
        if gain:
            _upgrade_if_qualified(member=member, state=state, as_of=max(timezone.now(), occurred_at))
    return entry


def _upgrade_if_qualified(*, member: User, state: MemberTier, as_of: datetime) -> None:
    tiers = tier_list()
    sums = member_window_sums(member=member, windows=rules.windows_of(tiers), as_of=as_of)
    apply_gain(member=member, state=state, tiers=tiers, sums=sums, as_of=as_of)


def _gain_fields(
    *, state: MemberTier, tiers: list, sums: rules.Sums, as_of: datetime
) -> tuple[rules.Outcome | None, Tier | None, dict]:
    """What growth that just arrived changes on the state row: (outcome, new tier, fields)."""
    current = state.tier
    best = rules.highest_qualified(tiers, sums)
    if best is not None and best.rank > current.rank:
        fields = {
            "tier": best,
            "tier_since": as_of,
            "evaluate_at": rules.next_evaluation(best, as_of),
            "grace_until": None,
        }
        return rules.Outcome.UPGRADED, best, fields
    if state.grace_until is not None and rules.tier_retained(current, sums):
        # Retention met again during the grace period: the warning is lifted at once.
        return (
            rules.Outcome.RETAINED,
            None,
            {"grace_until": None, "evaluate_at": rules.next_evaluation(current, as_of)},
        )
    return None, None, {}


def _record_upgrade(
    *, member: User, from_tier: Tier, to_tier: Tier, sums: rules.Sums, as_of: datetime
) -> None:
    window = sums.get(to_tier.window_months) or rules.WindowSums()
    tier_change_record(
        member=member,
        from_tier=from_tier,
        to_tier=to_tier,
        source=TierChange.Source.GROWTH,
        reason=_(
            "Qualified with growth value %(growth)s, spend %(spend)s and %(orders)s orders in %(months)s months"
        )
        % {
            "growth": window.growth,
            "spend": format_money(Decimal(window.spend)),
            "orders": window.orders,
            "months": to_tier.window_months,
        },
        at=as_of,
    )


def apply_gain(
    *, member: User, state: MemberTier, tiers: list, sums: rules.Sums, as_of: datetime
) -> rules.Outcome | None:
    """After growth arrived (caller holds the state lock): upgrade at once to the highest tier
    reached, or lift a running grace period if retention is met again."""
    current = state.tier
    outcome, best, fields = _gain_fields(state=state, tiers=tiers, sums=sums, as_of=as_of)
    if fields:
        MemberTier.objects.filter(pk=state.pk).update(**fields)
    if outcome == rules.Outcome.UPGRADED:
        _record_upgrade(member=member, from_tier=current, to_tier=best, sums=sums, as_of=as_of)
    return outcome


# --- the hot path of an order: one lock, one insert, one update ----------------------------


@dataclass
class TierContext:
    """A member's tier state locked for the caller's transaction, with the paid plans in force:
    the effective tier is known without further queries, and kept current by
    growth_record_locked."""

    member: User
    state: MemberTier
    subscriptions: list[Subscription] = field(default_factory=list)
    now: datetime | None = None

    def effective(self) -> Tier | None:
        return _effective(self.state, self.subscriptions, self.now or timezone.now())

    def points_multiplier(self) -> Decimal:
        tier = self.effective()
        return tier.points_multiplier if tier is not None else Decimal("1")


def member_tier_context_lock(*, member: User, now: datetime | None = None) -> TierContext:
    """Lock the member's tier state (created on first use) and read the paid plans in force:
    two queries, after which the effective tier is known. Call inside atomic."""
    now = now or timezone.now()
    state = member_tier_lock(member=member)
    return TierContext(
        member=member, state=state, subscriptions=subscriptions_current(member=member, now=now), now=now
    )


def _entry_insert(entry: GrowthEntry) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: one statement, no savepoint; False when
    the source is already in the ledger."""
    conn = connections[router.db_for_write(GrowthEntry)]
    qn = conn.ops.quote_name
    meta = GrowthEntry._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    params = [f.get_db_prep_save(f.pre_save(entry, True), conn) for f in fields]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING {qn(meta.pk.column)}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    entry.pk = row[0]
    entry._state.adding = False
    return True


def growth_record_locked(
    *,
    context: TierContext,
    growth: int,
    spend: Decimal = Decimal("0"),
    orders: int = 0,
    source_type: str,
    source_id: str,
    occurred_at: datetime,
    reason: str = "",
) -> GrowthEntry | None:
    """growth_record for a caller that already holds the state lock (member_tier_context_lock),
    inside its transaction: same ledger, idempotency and upgrade, fewer statements — one insert
    (ON CONFLICT DO NOTHING), the window sums only if an upgrade or a lifted grace is possible,
    one UPDATE for the totals and the new tier together. The context follows the change."""
    _validate(
        growth=growth,
        spend=spend,
        orders=orders,
        source_type=source_type,
        source_id=source_id,
        occurred_at=occurred_at,
    )
    member, state = context.member, context.state
    gain = growth > 0 or spend > 0 or orders > 0
    if gain:
        member_assert_can_transact(member)
    entry = GrowthEntry(
        member_id=member.pk,
        growth=growth,
        spend=spend,
        orders=orders,
        source_type=source_type,
        source_id=str(source_id),
        occurred_at=occurred_at,
        reason=reason[:255],
    )
    if not _entry_insert(entry):
        return None
    fields: dict = {}
    outcome = best = sums = None
    current = state.tier
    as_of = max(timezone.now(), occurred_at)
    if gain:
        tiers = tier_list()
        top_rank = max((t.rank for t in tiers), default=-1)
        if current.rank < top_rank or state.grace_until is not None:
            sums = member_window_sums(member=member, windows=rules.windows_of(tiers), as_of=as_of)
            outcome, best, fields = _gain_fields(state=state, tiers=tiers, sums=sums, as_of=as_of)
    update = dict(fields)
    if growth:
        update["growth_total"] = F("growth_total") + growth
    if spend:
        update["spend_total"] = F("spend_total") + spend
    if orders:
        update["orders_total"] = F("orders_total") + orders
    if update:
        MemberTier.objects.filter(pk=state.pk).update(**update)
    state.growth_total += growth
    state.spend_total += spend
    state.orders_total += orders
    for name, value in fields.items():
        setattr(state, name, value)
    if outcome == rules.Outcome.UPGRADED:
        _record_upgrade(member=member, from_tier=current, to_tier=best, sums=sums, as_of=as_of)
    return entry


def _day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(moment)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def growth_record_for_activity(*, member: User, event_type: str, event_id: str, occurred_at: datetime) -> int:
    """Growth value for an activity under the operator's GrowthRule (fixed, capped per day).

    Returns the growth given by this call: 0 without an active rule, when the day's cap is
    used up, for a frozen or closed member, or when this event was already counted.
    """
    rule = growth_rule_for(event_type=event_type)
    if rule is None or rule.growth <= 0 or member.status != User.Status.ACTIVE:
        return 0
    source_type = (ACTIVITY_PREFIX + event_type)[:40]
    with transaction.atomic():
        member_tier_lock(member=member)  # serialises the daily cap per member
        if GrowthEntry.objects.filter(source_type=source_type, source_id=str(event_id)).exists():
            return 0
        growth = rule.growth
        if rule.daily_cap is not None:
            start, end = _day_bounds(occurred_at)
            used = (
                GrowthEntry.objects.filter(
                    member_id=member.pk, source_type=source_type, occurred_at__gte=start, occurred_at__lt=end
                ).aggregate(total=Sum("growth"))["total"]
                or 0
            )
            growth = min(growth, max(0, rule.daily_cap - used))
        if growth <= 0:
            return 0
        entry = growth_record(
            member=member,
            growth=growth,
            source_type=source_type,
            source_id=str(event_id),
            occurred_at=occurred_at,
            reason=rule.name or event_type,
        )
    return entry.growth if entry is not None else 0
