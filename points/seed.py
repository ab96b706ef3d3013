"""Demo orders: two years of orders for the demo members, with 618 and 双11 peaks.

Set-based: per batch of members it builds orders, items, rule awards, lots, ledger entries
and accounts in memory and writes each table with one bulk_create, keeping the ledger exactly
consistent (the reconciliation job passes on seeded data). Per-order services are not used.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.models import Partner
from tiers.services import GrowthRow, growth_bulk_record

from .models import (
    EarningRule,
    Order,
    OrderItem,
    PointsAccount,
    PointsEntry,
    PointsLot,
    RuleAward,
)
from .services.ledger import lot_expiry, points_settings_get

BATCH = 1000
CATEGORIES = [
    ("apparel", ["T恤", "连衣裙", "羽绒服", "牛仔裤", "运动鞋"], (59, 699)),
    ("beauty", ["面霜", "口红", "精华液", "面膜"], (39, 899)),
    ("electronics", ["耳机", "充电宝", "智能手表", "键盘"], (99, 2999)),
    ("grocery", ["大米", "坚果礼盒", "牛奶", "咖啡豆"], (19, 199)),
    ("home", ["四件套", "收纳箱", "保温杯", "台灯"], (29, 499)),
    ("baby", ["纸尿裤", "奶粉", "玩具"], (49, 399)),
]
CHANNELS = ["app", "mini_program", "web", "store"]


def _day_weight(day: date) -> float:
    """Festival peaks: 618 (June 1-18, highest on the 18th) and 双11 (Nov 1-11)."""
    if day.month == 11 and day.day <= 11:
        return 8.0 if day.day == 11 else 3.0
    if day.month == 6 and day.day <= 18:
        return 6.0 if day.day == 18 else 2.0
    if day.month == 12 and day.day == 12:
        return 3.0
    return 1.0


def _order_times(
    rng: random.Random, joined: datetime, now: datetime, count: int, days: list[date], weights
) -> list:
    start = max(joined, now - timedelta(days=730))
    first = timezone.localtime(start).date()
    pool = [(d, w) for d, w in zip(days, weights, strict=True) if d >= first]
    if not pool:
        return []
    picked = rng.choices([d for d, _ in pool], weights=[w for _, w in pool], k=count)
    tz = timezone.get_current_timezone()
    out = []
    for day in sorted(picked):
        moment = datetime(
            day.year,
            day.month,
            day.day,
            rng.choice([9, 10, 12, 13, 20, 21, 22, 23]),
            rng.randrange(60),
            tzinfo=tz,
        )
        if moment < now:
            out.append(moment)
    return out


def seed_orders(*, members: int, stdout, rng: random.Random) -> None:
    User = get_user_model()
    now = timezone.now()
    partner, _ = Partner.objects.get_or_create(name="shop")
    policy = points_settings_get()
    window = timedelta(days=policy.return_window_days)
    rule = (
        EarningRule.objects.filter(event_type="order_paid", is_active=True, mode="per_unit")
        .order_by("priority")
        .first()
    )
    rate = rule.points_per_unit if rule else Decimal("1")
    today = timezone.localtime(now).date()
    days = [today - timedelta(days=i) for i in range(730, -1, -1)]
    weights = [_day_weight(d) for d in days]
    total_orders = 0
    last_pk = 0
    while True:
        batch = list(
            User.objects.filter(is_staff=False, pk__gt=last_pk, points_account__isnull=True)
            .order_by("pk")
            .values_list("pk", "date_joined", "status")[:BATCH]
        )
        if not batch:
            break
        last_pk = batch[-1][0]
        total_orders += _seed_batch(batch, partner, rule, rate, policy, window, now, rng, days, weights)
        stdout.write(f"  orders: {total_orders} so far")


def _seed_batch(batch, partner, rule, rate, policy, window, now, rng, days, weights) -> int:
    orders: list[Order] = []
    items: list[list[dict]] = []
    for member_pk, joined, status in batch:
        if status == "closed":
            continue
        count = min(int(rng.expovariate(1 / 5)), 40) if rng.random() < 0.85 else 0
        for paid_at in _order_times(rng, joined, now, count, days, weights):
            lines = []
            for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
                category, names, (low, high) = rng.choice(CATEGORIES)
                price = Decimal(rng.randint(low, high)) - Decimal("0.10") * rng.choice([0, 1])
                lines.append(
                    {
                        "sku": f"{category[:3].upper()}-{rng.randrange(1000):04d}",
                        "category": category,
                        "quantity": rng.choice([1, 1, 1, 2]),
                        "unit_price": price,
                        "name": rng.choice(names),
                    }
                )
            amount = sum((li["unit_price"] * li["quantity"] for li in lines), Decimal("0"))
            orders.append(
                Order(
                    partner=partner,
                    order_id=f"SEED-{member_pk}-{len(orders)}-{rng.randrange(10**8):08d}",
                    member_id=member_pk,
                    amount=amount,
                    currency="CNY",
                    channel=rng.choice(CHANNELS),
                    store_id=f"S{rng.randrange(1, 60):03d}" if rng.random() < 0.15 else "",
                    paid_at=paid_at,
                    points_awarded=int(amount * rate),
                    growth_value=int(amount),
                    imported=True,
                    created_at=paid_at,
                )
            )
            items.append(lines)
    with transaction.atomic():
        for order in orders:
            if order.paid_at + window <= now:
                order.status = Order.Status.COMPLETED
                order.confirmed_at = order.paid_at + window
        if orders:
            Order.objects.bulk_create(orders, batch_size=2000)
            OrderItem.objects.bulk_create(
                [
                    OrderItem(
                        order=o,
                        sku=li["sku"],
                        category=li["category"],
                        quantity=li["quantity"],
                        unit_price=li["unit_price"],
                    )
                    for o, lines in zip(orders, items, strict=True)
                    for li in lines
                ],
                batch_size=5000,
            )
        # Final balances per member, computed before the accounts are written (one INSERT).
        plan: list[tuple[Order, datetime | None, bool]] = []
        totals: dict[int, list[int]] = {}
        for order in orders:
            points = order.points_awarded
            if points <= 0:
                continue
            confirmed = order.confirmed_at is not None
            expires_at = lot_expiry(earned_at=order.confirmed_at, policy=policy) if confirmed else None
            expired = confirmed and expires_at is not None and expires_at <= now
            plan.append((order, expires_at, expired))
            t = totals.setdefault(order.member_id, [0, 0, 0, 0])  # available, pending, earned, expired
            t[2] += points
            if not confirmed:
                t[1] += points
            elif expired:
                t[3] += points
            else:
                t[0] += points
        accounts = {
            a.member_id: a
            for a in PointsAccount.objects.bulk_create(
                [
                    PointsAccount(
                        member_id=pk,
                        created_at=joined,
                        available=totals.get(pk, [0] * 4)[0],
                        pending=totals.get(pk, [0] * 4)[1],
                        lifetime_earned=totals.get(pk, [0] * 4)[2],
                        lifetime_expired=totals.get(pk, [0] * 4)[3],
                    )
                    for pk, joined, status in batch
                    if status != "closed"
                ],
                batch_size=2000,
            )
        }
        lots: list[PointsLot] = []
        awards: list[RuleAward] = []
        for order, expires_at, expired in plan:
            account = accounts[order.member_id]
            points = order.points_awarded
            lots.append(
                PointsLot(
                    account=account,
                    state=PointsLot.State.AVAILABLE if order.confirmed_at else PointsLot.State.PENDING,
                    points=points,
                    remaining=0 if expired else points,
                    earned_at=order.paid_at,
                    confirm_after=order.paid_at + window,
                    expires_at=expires_at,
                    source_type="order",
                    source_id=str(order.pk),
                    order=order,
                )
            )
            if rule is not None:
                awards.append(
                    RuleAward(
                        rule=rule,
                        account=account,
                        order=order,
                        source_type="order",
                        source_id=str(order.pk),
                        base_amount=order.amount,
                        multiplier=Decimal("1"),
                        points=points,
                        awarded_at=order.paid_at,
                    )
                )
        PointsLot.objects.bulk_create(lots, batch_size=5000)
        RuleAward.objects.bulk_create(awards, batch_size=5000)
        # Ledger lines in time order per account, so balance_after is right line by line.
        moves: dict[int, list[tuple]] = {}
        for lot, (order, _expires_at, expired) in zip(lots, plan, strict=True):
            pts = lot.points
            lines = moves.setdefault(lot.account.pk, [])
            lines.append((order.paid_at, 0, "earn", pts, 0, pts, "order", str(order.pk)))
            if order.confirmed_at is not None:
                lines.append((order.confirmed_at, 1, "confirm", pts, pts, -pts, "lot", str(lot.pk)))
                if expired:
                    lines.append((lot.expires_at, 2, "expire", -pts, -pts, 0, "lot", str(lot.pk)))
        entries: list[PointsEntry] = []
        for account_pk, lines in moves.items():
            available = 0
            for at, _seq, kind, amount, d_available, d_pending, source_type, source_id in sorted(
                lines, key=lambda m: (m[0], m[1])
            ):
                available += d_available
                entries.append(
                    PointsEntry(
                        account_id=account_pk,
                        kind=kind,
                        amount=amount,
                        delta_available=d_available,
                        delta_pending=d_pending,
                        balance_after=available,
                        source_type=source_type,
                        source_id=source_id,
                        actor="seed",
                        reason="demo data",
                        created_at=at,
                    )
                )
        PointsEntry.objects.bulk_create(entries, batch_size=5000)
    # Growth value for the tier engine: the same entries the order service records.
    growth_bulk_record(
        rows=(
            GrowthRow(
                member_id=order.member_id,
                growth=order.growth_value,
                spend=order.amount,
                orders=1,
                source_type="order",
                source_id=str(order.pk),
                occurred_at=order.paid_at,
                reason=f"order {order.order_id}",
            )
            for order in orders
        ),
        as_of=now,
    )
    return len(orders)
