"""Bulk import of historical orders (API orders:import and `manage.py import_orders`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import events
from core.errors import ApplicationError
from core.outbox import outbox_emit_bulk

from ..lock_objects import accounts_lock
from ..models import (
    EarningRule,
    Order,
    OrderItem,
    PointsAccount,
    PointsEntry,
    PointsLot,
    PromoMultiplier,
    RuleAward,
)
from .behaviour import _resolve_members
from .ledger import (
    accounts_add_bulk,
    actor_label,
    lot_expiry,
    points_settings_get,
)
from .orders import _validate_order, order_record, order_response_body
from .rules import ONE, has_caps, promo_in_window, rules_evaluate, rules_in_window

MAX_IMPORT = 1000
CSV_COLUMNS = [
    "order_id",
    "member",
    "amount",
    "currency",
    "paid_at",
    "channel",
    "store_id",
    "sku",
    "category",
    "quantity",
    "unit_price",
]


def orders_import(*, partner, orders: list[dict], actor=None) -> list[dict]:
    """Record up to 1,000 validated historical orders; each is all-or-nothing.

    Members and known order ids are looked up for the whole batch at once. The batch is first
    written set-based (one INSERT per table, balances updated once per account, see
    `_import_bulk`); if anything refuses that (a concurrent duplicate, a frozen member, capped
    order rules), the batch falls back to one savepoint per order through order_record.
    Returns one result per order: {order_id, status: created|duplicate|rejected, ...}.
    """
    if len(orders) > MAX_IMPORT:
        raise ApplicationError(
            f"At most {MAX_IMPORT} orders per import.", errors={"orders": [f"At most {MAX_IMPORT}."]}
        )
    members = _resolve_members(partner=partner, refs=[o["member"] for o in orders])
    known = set(
        Order.objects.filter(partner=partner, order_id__in=[o["order_id"] for o in orders]).values_list(
            "order_id", flat=True
        )
    )
    results: list[dict | None] = []
    todo: list[tuple[int, dict, object]] = []
    seen: set[str] = set()
    for index, data in enumerate(orders):
        order_id = data["order_id"]
        if order_id in known or order_id in seen:
            results.append({"order_id": order_id, "status": "duplicate"})
            continue
        member = members.get(data["member"])
        if member is None:
            results.append(
                {
                    "order_id": order_id,
                    "status": "rejected",
                    "code": "member_not_found",
                    "errors": {"member": ["Unknown member."]},
                }
            )
            continue
        seen.add(order_id)
        results.append(None)
        todo.append((index, data, member))
    if todo:
        done = None
        try:
            done = _import_bulk(partner=partner, todo=todo, actor=actor)
        except (ApplicationError, IntegrityError):
            done = None
        if done is None:
            done = _import_one_by_one(partner=partner, todo=todo, actor=actor)
        for index, result in done.items():
            results[index] = result
    return [r for r in results if r is not None]


def _import_one_by_one(*, partner, todo, actor) -> dict[int, dict]:
    rules_cache: dict = {}
    done: dict[int, dict] = {}
    for index, data, member in todo:
        try:
            with transaction.atomic():
                outcome = order_record(
                    partner=partner,
                    order_id=data["order_id"],
                    member=member,
                    amount=data["amount"],
                    currency=data.get("currency") or "CNY",
                    items=data.get("items") or [],
                    channel=data.get("channel") or "",
                    store_id=data.get("store_id") or "",
                    paid_at=data["paid_at"],
                    actor=actor,
                    imported=True,
                    rules_cache=rules_cache,
                )
        except ApplicationError as exc:
            done[index] = {
                "order_id": data["order_id"],
                "status": "rejected",
                "code": exc.code,
                "errors": exc.errors or {"non_field_errors": [exc.message]},
            }
            continue
        done[index] = {
            "status": "created" if outcome.created else "duplicate",
            **order_response_body(outcome.order),
        }
    return done


def _import_bulk(*, partner, todo, actor) -> dict[int, dict] | None:
    """The whole batch in one transaction, set-based. None: use the per-order path instead."""
    from tiers.selectors import growth_for_amount, tier_effective

    rules = list(EarningRule.objects.filter(is_active=True, event_type="order_paid"))
    if any(has_caps(r) for r in rules):
        return None  # caps depend on the order of awards: leave them to the per-order path
    if any(m.status != m.Status.ACTIVE for _i, _d, m in todo):
        return None  # per order: those are rejected (member_frozen / member_closed), others go in
    promos = list(PromoMultiplier.objects.filter(is_active=True))
    policy = points_settings_get()
    window = timedelta(days=policy.return_window_days)
    now = timezone.now()
    label = actor_label(actor)
    for _index, data, _member in todo:
        _validate_order(
            order_id=data["order_id"],
            amount=data["amount"],
            currency=data.get("currency") or "CNY",
            items=data.get("items") or [],
            paid_at=data["paid_at"],
        )
    todo = sorted(todo, key=lambda t: (t[2].pk, t[1]["paid_at"]))
    with transaction.atomic():
        member_pks = {m.pk for _i, _d, m in todo}
        have = set(PointsAccount.objects.filter(member_id__in=member_pks).values_list("member_id", flat=True))
        if member_pks - have:
            PointsAccount.objects.bulk_create(
                [PointsAccount(member_id=pk) for pk in member_pks - have], ignore_conflicts=True
            )
        accounts = {
            a.member_id: a
            for a in accounts_lock(
                account_pks=PointsAccount.objects.filter(
                    member_id__in={m.pk for _i, _d, m in todo}
                ).values_list("pk", flat=True)
            )
        }
        start = {pk: (a.available, a.pending, a.debt, a.lifetime_earned) for pk, a in accounts.items()}
        growth_cache: dict = {}
        orders: list[Order] = []
        plans: list[tuple] = []
        for _index, data, member in todo:
            amount, paid_at = data["amount"], data["paid_at"]
            candidates = rules_evaluate(
                account=accounts[member.pk],
                member=member,
                event_type="order_paid",
                at=paid_at,
                amount=amount,
                items=data.get("items") or [],
                rules=rules_in_window(rules, paid_at),
                tier_multiplier=ONE,
                promo_multiplier=promo_in_window(promos, event_type="order_paid", at=paid_at),
            )
            total = sum(c.points for c in candidates)
            confirm_after = paid_at + window
            confirmed = total > 0 and confirm_after <= now
            if amount not in growth_cache:
                growth_cache[amount] = int(growth_for_amount(amount=amount))
            order = Order(
                partner=partner,
                order_id=data["order_id"],
                member=member,
                amount=amount,
                currency=data.get("currency") or "CNY",
                channel=(data.get("channel") or "")[:30],
                store_id=(data.get("store_id") or "")[:64],
                paid_at=paid_at,
                imported=True,
                points_awarded=total,
                growth_value=growth_cache[amount],
                confirmed_at=now if confirmed else None,
                status=Order.Status.COMPLETED if confirmed else Order.Status.PAID,
            )
            orders.append(order)
            plans.append((order, data, member, candidates, total, confirm_after, confirmed))
        Order.objects.bulk_create(orders, batch_size=1000)
        OrderItem.objects.bulk_create(
            [
                OrderItem(
                    order=order,
                    sku=str(i["sku"])[:64],
                    category=str(i.get("category") or "")[:64],
                    quantity=int(i["quantity"]),
                    unit_price=Decimal(i["unit_price"]),
                )
                for order, data, *_rest in plans
                for i in data.get("items") or []
            ],
            batch_size=2000,
        )
        RuleAward.objects.bulk_create(
            [
                RuleAward(
                    rule=c.rule,
                    account=accounts[member.pk],
                    order=order,
                    source_type="order",
                    source_id=str(order.pk),
                    base_amount=c.base_amount,
                    multiplier=c.multiplier,
                    points=c.points,
                    awarded_at=order.paid_at,
                )
                for order, _data, member, candidates, *_rest in plans
                for c in candidates
            ],
            batch_size=2000,
        )
        # Balances move in memory per account in payment order; debt is repaid first.
        state = {pk: list(values) for pk, values in start.items()}  # available, pending, debt, earned
        lots: list[PointsLot] = []
        lot_plans: list[tuple] = []
        for order, _data, member, _candidates, total, confirm_after, confirmed in plans:
            if total <= 0:
                continue
            s = state[member.pk]
            repay = min(s[2], total) if confirmed else 0
            lots.append(
                PointsLot(
                    account=accounts[member.pk],
                    state=PointsLot.State.AVAILABLE if confirmed else PointsLot.State.PENDING,
                    points=total,
                    remaining=total - repay,
                    earned_at=order.paid_at,
                    confirm_after=confirm_after,
                    expires_at=lot_expiry(earned_at=confirm_after, policy=policy) if confirmed else None,
                    source_type="order",
                    source_id=str(order.pk),
                    order=order,
                )
            )
            lot_plans.append((order, member, total, confirmed, repay))
        PointsLot.objects.bulk_create(lots, batch_size=2000)
        entries: list[PointsEntry] = []
        earned_now: dict[int, int] = {}
        for lot, (order, member, total, confirmed, repay) in zip(lots, lot_plans, strict=True):
            s = state[member.pk]
            account_pk = accounts[member.pk].pk
            s[1] += total
            s[3] += total
            entries.append(
                PointsEntry(
                    account_id=account_pk,
                    kind="earn",
                    amount=total,
                    delta_pending=total,
                    balance_after=s[0],
                    source_type="order",
                    source_id=str(order.pk),
                    actor=label[:200],
                    reason=f"order {order.order_id}"[:255],
                    created_at=now,
                )
            )
            if confirmed:
                s[1] -= total
                s[0] += total - repay
                s[2] -= repay
                earned_now[member.pk] = earned_now.get(member.pk, 0) + total - repay
                entries.append(
                    PointsEntry(
                        account_id=account_pk,
                        kind="confirm",
                        amount=total,
                        delta_pending=-total,
                        delta_available=total - repay,
                        delta_debt=-repay,
                        balance_after=s[0],
                        source_type="lot",
                        source_id=str(lot.pk),
                        actor=label[:200],
                        reason=f"order {order.order_id}: return window closed"
                        + (f", repaid debt {repay}" if repay else ""),
                        created_at=now,
                    )
                )
        PointsEntry.objects.bulk_create(entries, batch_size=2000)
        accounts_add_bulk(
            {
                accounts[member_pk].pk: {
                    "available": state[member_pk][0] - start[member_pk][0],
                    "pending": state[member_pk][1] - start[member_pk][1],
                    "debt": state[member_pk][2] - start[member_pk][2],
                    "lifetime_earned": state[member_pk][3] - start[member_pk][3],
                }
                for member_pk in state
                if tuple(state[member_pk]) != start[member_pk]
            },
            at=now,
        )
        member_ids = {m.pk: m.member_id for _i, _d, m in todo}
        outbox_emit_bulk(
            type="points.earned",
            items=[
                {
                    "member_id": member_ids[member_pk],
                    "points": points,
                    "available": state[member_pk][0],
                    "source_type": "orders_import",
                    "source_id": "",
                }
                for member_pk, points in earned_now.items()
                if points > 0
            ],
        )
        from tiers.services import GrowthRow, growth_bulk_record

        growth_bulk_record(
            rows=[
                GrowthRow(
                    member_id=member.pk,
                    growth=order.growth_value,
                    spend=order.amount,
                    orders=1,
                    source_type="order",
                    source_id=str(order.pk),
                    occurred_at=order.paid_at,
                    reason=f"order {order.order_id}",
                )
                for order, _data, member, *_rest in plans
            ]
        )
        members = {member.pk: member for _order, _data, member, *_rest in plans}
        tiers = {}
        for pk, member in members.items():
            tier = tier_effective(member=member)
            tiers[pk] = tier.code if tier is not None else ""
        for code in set(tiers.values()):
            Order.objects.filter(pk__in=[o.pk for o in orders if tiers[o.member_id] == code]).update(
                tier_code=code
            )
        for order, _data, member, *_rest in plans:
            order.tier_code = tiers[member.pk]
            events.publish(events.ORDER_PAID, order=order, member=member)
    return {
        index: {"status": "created", **order_response_body(order)}
        for (index, _d, _m), order in zip(todo, orders, strict=True)
    }


class CsvError(ValueError):
    pass


def _parse_row(line: int, row: dict) -> tuple[dict, dict]:
    missing = [c for c in ("order_id", "member", "amount", "paid_at") if not (row.get(c) or "").strip()]
    if missing:
        raise CsvError(f"line {line}: missing {', '.join(missing)}")
    try:
        amount = Decimal(row["amount"].strip())
    except InvalidOperation:
        raise CsvError(f"line {line}: amount {row['amount']!r} is not a number")
    paid_at = parse_datetime(row["paid_at"].strip())
    if paid_at is None or paid_at.tzinfo is None:
        raise CsvError(f"line {line}: paid_at {row['paid_at']!r} needs ISO 8601 with an offset")
    order = {
        "order_id": row["order_id"].strip(),
        "member": row["member"].strip(),
        "amount": amount,
        "currency": (row.get("currency") or "CNY").strip() or "CNY",
        "paid_at": paid_at,
        "channel": (row.get("channel") or "").strip(),
        "store_id": (row.get("store_id") or "").strip(),
        "items": [],
    }
    item = {}
    if (row.get("sku") or "").strip():
        try:
            item = {
                "sku": row["sku"].strip(),
                "category": (row.get("category") or "").strip(),
                "quantity": int((row.get("quantity") or "1").strip()),
                "unit_price": Decimal((row.get("unit_price") or "0").strip()),
            }
        except (ValueError, InvalidOperation):
            raise CsvError(f"line {line}: quantity/unit_price are not numbers")
    return order, item


def orders_from_csv(lines: Iterable[str]) -> Iterator[dict]:
    """Orders from CSV rows (one row per item, rows of an order consecutive)."""
    reader = csv.DictReader(lines)
    absent = [c for c in ("order_id", "member", "amount", "paid_at") if c not in (reader.fieldnames or [])]
    if absent:
        raise CsvError(f"missing columns: {', '.join(absent)}")
    current: dict | None = None
    for line, row in enumerate(reader, start=2):
        order, item = _parse_row(line, row)
        if current is not None and current["order_id"] != order["order_id"]:
            yield current
            current = None
        if current is None:
            current = order
        if item:
            current["items"].append(item)
    if current is not None:
        yield current


def orders_import_csv(*, partner, lines: Iterable[str], batch_size: int = MAX_IMPORT) -> dict:
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    errors: list[dict] = []
    batch: list[dict] = []

    def flush() -> None:
        for result in orders_import(partner=partner, orders=batch, actor="import_orders"):
            counts[result["status"]] += 1
            if result["status"] == "rejected":
                errors.append(result)
        batch.clear()

    for order in orders_from_csv(lines):
        batch.append(order)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return {"counts": counts, "errors": errors}
