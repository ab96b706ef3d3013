"""Orders and refunds: pending order points, growth value, proportional claw-back and debt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from core import events
from core.errors import ApplicationError, Conflict, ErrorCode, NotFound
from members.services import member_assert_can_transact

from ..lock_objects import order_lock
from ..models import EarningRule, Order, OrderItem, PointsLot, Refund, RuleAward
from .ledger import (
    account_lock_for_member,
    actor_label,
    confirm_lot,
    consume_lots,
    earn_pending,
    points_settings_get,
    post_entry,
)
from .rules import ONE, awards_record, rules_evaluate, rules_in_window

MAX_FUTURE = timedelta(minutes=10)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class OrderOutcome:
    order: Order
    created: bool

    @property
    def body(self) -> dict:
        return order_response_body(self.order)


def order_response_body(order: Order) -> dict:
    return {
        "order_id": order.order_id,
        "points_pending": int(order.points_awarded) if order.confirmed_at is None else 0,
        "points_awarded": int(order.points_awarded),
        "growth_value": int(order.growth_value),
        "tier": order.tier_code or None,
    }


def _validate_order(*, order_id, amount, currency, items, paid_at) -> None:
    errors: dict[str, list[str]] = {}
    if not order_id or len(str(order_id)) > 64:
        errors["order_id"] = ["Required, at most 64 characters."]
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount < 0
        or amount != amount.quantize(Decimal("0.01"))
    ):
        errors["amount"] = ["A non-negative amount with at most 2 decimal places."]
    if not _CURRENCY.match(currency or ""):
        errors["currency"] = ["An ISO 4217 code such as CNY."]
    if not isinstance(paid_at, datetime) or timezone.is_naive(paid_at):
        errors["paid_at"] = ["A date-time with an offset."]
    elif paid_at > timezone.now() + MAX_FUTURE:
        errors["paid_at"] = ["Cannot be in the future."]
    for i, item in enumerate(items or []):
        if not item.get("sku"):
            errors[f"items.{i}.sku"] = ["Required."]
        if int(item.get("quantity", 0)) <= 0:
            errors[f"items.{i}.quantity"] = ["Must be at least 1."]
        if Decimal(item.get("unit_price", "-1")) < 0:
            errors[f"items.{i}.unit_price"] = ["Must not be negative."]
    if errors:
        raise ApplicationError("The order has invalid fields.", errors=errors)


def _tier_code(member) -> str:
    from tiers.selectors import tier_effective

    tier = tier_effective(member=member)
    return tier.code if tier is not None else ""


def _growth_for(amount: Decimal) -> int:
    from tiers.selectors import growth_for_amount

    return int(growth_for_amount(amount=amount))


def _record_growth(
    *, member, growth: int, spend: Decimal, orders: int, source_type: str, source_id: str, at, reason: str
):
    from tiers.services import growth_record

    return growth_record(
        member=member,
        growth=growth,
        spend=spend,
        orders=orders,
        source_type=source_type,
        source_id=source_id,
        occurred_at=at,
        reason=reason,
    )


class _DuplicateOrder(Exception):
    """The (partner, order_id) insert lost to an existing row; the transaction is rolled back."""

    def __init__(self, error: IntegrityError) -> None:
        super().__init__(str(error))
        self.error = error


def _order_insert(*, savepoint: bool, **fields) -> Order:
    """INSERT the order; a duplicate (partner, order_id) raises _DuplicateOrder. Outside a
    caller's transaction no savepoint is needed: the duplicate aborts our own transaction,
    which holds nothing yet."""
    try:
        if savepoint:
            with transaction.atomic():
                return Order.objects.create(**fields)
        return Order.objects.create(**fields)
    except IntegrityError as exc:
        raise _DuplicateOrder(exc) from exc


def order_record(
    *,
    partner,
    order_id: str,
    member,
    amount: Decimal,
    paid_at: datetime,
    currency: str = "CNY",
    items: list[dict] | None = None,
    channel: str = "",
    store_id: str = "",
    actor=None,
    imported: bool = False,
    rules_cache: dict | None = None,
) -> OrderOutcome:
    """Record a paid order once per (partner, order_id): pending points by the earning rules,
    growth value and spend for the tier engine, and the core event ORDER_PAID.

    A replay (even a concurrent one) returns the first order with created=False.

    Hot path: the unique (partner, order_id) decides a replay (no read first); the points
    account and then the tier state are locked once, and the tier state, the paid plans in
    force and the catalogue read are reused for the tier multiplier, the growth/upgrade and
    the tier in the response.
    """
    from tiers.services import growth_record_locked, member_tier_context_lock

    items = list(items or [])
    _validate_order(order_id=order_id, amount=amount, currency=currency, items=items, paid_at=paid_at)
    nested = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic():
            order = _order_insert(
                savepoint=nested,
                partner=partner,
                order_id=order_id,
                member=member,
                amount=amount,
                currency=currency,
                channel=(channel or "")[:30],
                store_id=(store_id or "")[:64],
                paid_at=paid_at,
                imported=imported,
            )
            member_assert_can_transact(member)
            if items:
                OrderItem.objects.bulk_create(
                    [
                        OrderItem(
                            order=order,
                            sku=str(i["sku"])[:64],
                            category=str(i.get("category") or "")[:64],
                            quantity=int(i["quantity"]),
                            unit_price=Decimal(i["unit_price"]),
                        )
                        for i in items
                    ]
                )
            account = account_lock_for_member(member=member)  # lock order: account → tier state
            tier_context = member_tier_context_lock(member=member)
            rules = None
            if rules_cache is not None:
                if "order_paid" not in rules_cache:
                    rules_cache["order_paid"] = list(
                        EarningRule.objects.filter(is_active=True, event_type="order_paid")
                    )
                rules = rules_in_window(rules_cache["order_paid"], paid_at)
            candidates = rules_evaluate(
                account=account,
                member=member,
                event_type="order_paid",
                at=paid_at,
                amount=amount,
                items=items,
                rules=rules,
                # The tier a member had when a historical order was paid is unknown: no tier multiplier.
                tier_multiplier=ONE if imported else Decimal(tier_context.points_multiplier()),
            )
            total = awards_record(
                account=account,
                candidates=candidates,
                source_type="order",
                source_id=str(order.pk),
                at=paid_at,
                order=order,
            )
            confirmed_at = None
            if total > 0:
                policy = points_settings_get()
                confirm_after = paid_at + timedelta(days=policy.return_window_days)
                lot, _entry = earn_pending(
                    account,
                    points=total,
                    source_type="order",
                    source_id=str(order.pk),
                    confirm_after=confirm_after,
                    order=order,
                    actor=actor_label(actor),
                    reason=f"order {order_id}",
                )
                if confirm_after <= timezone.now():
                    confirm_lot(account, lot, reason=f"order {order_id}: return window closed")
                    confirmed_at = timezone.now()
            growth = _growth_for(amount)
            growth_record_locked(
                context=tier_context,
                growth=growth,
                spend=amount,
                orders=1,
                source_type="order",
                source_id=str(order.pk),
                occurred_at=paid_at,
                reason=f"order {order_id}",
            )
            tier = tier_context.effective()
            order.points_awarded = total
            order.growth_value = growth
            order.tier_code = tier.code if tier is not None else ""
            order.confirmed_at = confirmed_at
            if confirmed_at is not None:
                order.status = Order.Status.COMPLETED
            Order.objects.filter(pk=order.pk).update(
                points_awarded=total,
                growth_value=growth,
                tier_code=order.tier_code,
                confirmed_at=confirmed_at,
                status=order.status,
            )
            events.publish(events.ORDER_PAID, order=order, member=member)
    except _DuplicateOrder as duplicate:
        # Recorded before (or by a concurrent request): it is posted once.
        existing = Order.objects.filter(partner=partner, order_id=order_id).first()
        if existing is None:
            raise duplicate.error from None
        return OrderOutcome(existing, False)
    return OrderOutcome(order, True)


def _order_for(*, partner, order_id: str) -> Order:
    order = Order.objects.select_related("member").filter(partner=partner, order_id=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id!r}.", code=ErrorCode.ORDER_NOT_FOUND)
    return order


def order_refund(
    *,
    partner,
    order_id: str,
    refund_id: str,
    amount: Decimal,
    items: list | None = None,
    actor=None,
) -> tuple[Refund, bool]:
    """Reverse the points (and growth) of the refunded part of an order, proportionally to what
    each rule gave. Pending points go first; spent points become debt. Idempotent by refund_id."""
    order = _order_for(partner=partner, order_id=order_id)
    errors: dict[str, list[str]] = {}
    if not refund_id or len(str(refund_id)) > 64:
        errors["refund_id"] = ["Required, at most 64 characters."]
    if (
        not isinstance(amount, Decimal)
        or not amount.is_finite()
        or amount <= 0
        or amount != amount.quantize(Decimal("0.01"))
    ):
        errors["amount"] = ["A positive amount with at most 2 decimal places."]
    if errors:
        raise ApplicationError("The refund has invalid fields.", errors=errors)
    existing = Refund.objects.filter(order=order, refund_id=refund_id).first()
    if existing is not None:
        return _replayed(existing, amount)
    member = order.member
    with transaction.atomic():
        account = account_lock_for_member(member=member)
        order = order_lock(order_pk=order.pk)
        existing = Refund.objects.filter(order=order, refund_id=refund_id).first()
        if existing is not None:
            return _replayed(existing, amount)
        if order.refunded_amount + amount > order.amount:
            left = order.amount - order.refunded_amount
            raise ApplicationError(
                "Refunds would exceed the order amount.",
                errors={"amount": [f"At most {left} can still be refunded."]},
            )
        refund = Refund.objects.create(
            order=order, refund_id=refund_id, amount=amount, items=list(items or [])
        )
        cumulative = order.refunded_amount + amount
        full = cumulative == order.amount
        to_reverse = 0
        for award in RuleAward.objects.filter(order=order).order_by("pk"):
            if full or order.amount == 0:
                target = award.points
            else:
                target = int(
                    (Decimal(award.points) * cumulative / order.amount).to_integral_value(rounding=ROUND_DOWN)
                )
            delta = target - award.reversed_points
            if delta > 0:
                RuleAward.objects.filter(pk=award.pk).update(reversed_points=F("reversed_points") + delta)
                to_reverse += delta
        from_pending = from_available = to_debt = 0
        if to_reverse:
            pending_lot = (
                PointsLot.objects.filter(order=order, state=PointsLot.State.PENDING, remaining__gt=0)
                .order_by("pk")
                .first()
            )
            if pending_lot is not None:
                from_pending = min(pending_lot.remaining, to_reverse)
                PointsLot.objects.filter(pk=pending_lot.pk).update(remaining=F("remaining") - from_pending)
            rest = to_reverse - from_pending
            from_available = min(rest, account.available)
            to_debt = rest - from_available
            if from_available:
                own = PointsLot.objects.filter(
                    order=order, state=PointsLot.State.AVAILABLE, remaining__gt=0
                ).first()
                consume_lots(account, from_available, first_lot_pk=own.pk if own else None)
            post_entry(
                account,
                kind="reverse",
                amount=-to_reverse,
                d_pending=-from_pending,
                d_available=-from_available,
                d_debt=to_debt,
                source_type="refund",
                source_id=str(refund.pk),
                actor=actor_label(actor),
                reason=f"refund {refund_id} of order {order.order_id}"
                + (f" (debt {to_debt})" if to_debt else ""),
            )
        # Growth and spend go back with the refunded share (never below what the order gave).
        growth_before = (
            Refund.objects.filter(order=order).exclude(pk=refund.pk).aggregate(g=Sum("growth_reversed"))["g"]
            or 0
        )
        if full or order.amount == 0:
            growth_target = order.growth_value
        else:
            growth_target = int(
                (Decimal(order.growth_value) * cumulative / order.amount).to_integral_value(
                    rounding=ROUND_DOWN
                )
            )
        growth_back = max(0, growth_target - growth_before)
        _record_growth(
            member=member,
            growth=-growth_back,
            spend=-amount,
            orders=-1 if full else 0,
            source_type="refund",
            source_id=str(refund.pk),
            at=timezone.now(),
            reason=f"refund {refund_id} of order {order.order_id}",
        )
        Refund.objects.filter(pk=refund.pk).update(
            points_reversed=to_reverse, points_debt=to_debt, growth_reversed=growth_back
        )
        Order.objects.filter(pk=order.pk).update(
            refunded_amount=F("refunded_amount") + amount,
            status=Order.Status.REFUNDED if full else Order.Status.PARTIALLY_REFUNDED,
        )
        refund.points_reversed, refund.points_debt, refund.growth_reversed = to_reverse, to_debt, growth_back
        order.refresh_from_db()
        events.publish(events.ORDER_REFUNDED, order=order, refund=refund, member=member)
    return refund, True


def _replayed(refund: Refund, amount: Decimal) -> tuple[Refund, bool]:
    if refund.amount != amount:
        raise Conflict(
            "This refund_id was already used with a different amount.",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            errors={"refund_id": ["Already used with another amount."]},
        )
    return refund, False


def order_complete(
    *, partner=None, order: Order | None = None, order_id: str = "", actor=None, reason: str = ""
) -> Order:
    """The return window closed (or the partner says so): confirm the order's pending points now."""
    if order is None:
        order = _order_for(partner=partner, order_id=order_id)
    with transaction.atomic():
        account = account_lock_for_member(member=order.member)
        order = order_lock(order_pk=order.pk)
        for lot in PointsLot.objects.filter(
            order=order, state=PointsLot.State.PENDING, remaining__gt=0
        ).order_by("pk"):
            confirm_lot(
                account, lot, actor=actor_label(actor), reason=reason or f"order {order.order_id} completed"
            )
        if order.confirmed_at is None:
            now = timezone.now()
            status = order.status if order.status != Order.Status.PAID else Order.Status.COMPLETED
            Order.objects.filter(pk=order.pk).update(confirmed_at=now, status=status)
            order.confirmed_at, order.status = now, status
            events.publish(events.ORDER_COMPLETED, order=order, member=order.member)
    return order
