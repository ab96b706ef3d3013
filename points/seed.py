"""Demo orders: two years of orders for the demo members, with 618 and 双11 peaks.

Set-based: per batch of members (in pk order, so memory stays bounded for a million) it builds
orders, items, rule awards, lots, ledger entries and accounts in memory and writes each table
with one COPY (PostgreSQL) or one executemany (SQLite), ids reserved from the tables'
sequences first, keeping the ledger exactly consistent (the reconciliation job passes on
seeded data). Per-order services are not used.

Growth value: for members new to the tier engine (no tier state, no growth yet, as every
demo member is) the seeder writes what tiers.services.growth_bulk_record would: one growth
entry per order, the tier state with its lifetime totals, and for members whose window sums
reach a higher tier the at-once upgrade (tier, tier_since, evaluate_at), recorded through
tiers.services.tier_changes_record_bulk (TierChange, inbox notice, tier.changed webhook event,
TIER_CHANGED). Members who already have a tier state or growth go through
growth_bulk_record itself.
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Partner
from core.money import format_money
from tiers import rules
from tiers.models import GrowthEntry, MemberTier, TierChange
from tiers.selectors import tier_default, tier_list
from tiers.services import GrowthRow, growth_bulk_record, tier_changes_record_bulk

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

BATCH = 2000  # members per batch
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
    partner, _created = Partner.objects.get_or_create(name="shop")
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
    tiers = tier_list()
    tables = {
        name: _Table(model, fields, now=now)
        for name, model, fields in (
            (
                "order",
                Order,
                [
                    "id",
                    "partner",
                    "order_id",
                    "member",
                    "amount",
                    "currency",
                    "channel",
                    "store_id",
                    "paid_at",
                    "status",
                    "points_awarded",
                    "growth_value",
                    "imported",
                    "confirmed_at",
                    "created_at",
                ],
            ),
            ("item", OrderItem, ["id", "order", "sku", "category", "quantity", "unit_price"]),
            (
                "account",
                PointsAccount,
                ["id", "member", "available", "pending", "lifetime_earned", "lifetime_expired", "created_at"],
            ),
            (
                "lot",
                PointsLot,
                [
                    "id",
                    "account",
                    "state",
                    "points",
                    "remaining",
                    "earned_at",
                    "confirm_after",
                    "expires_at",
                    "source_type",
                    "source_id",
                    "order",
                ],
            ),
            (
                "award",
                RuleAward,
                [
                    "id",
                    "rule",
                    "account",
                    "order",
                    "source_type",
                    "source_id",
                    "base_amount",
                    "multiplier",
                    "points",
                    "awarded_at",
                ],
            ),
            (
                "entry",
                PointsEntry,
                [
                    "id",
                    "account",
                    "kind",
                    "amount",
                    "delta_available",
                    "delta_pending",
                    "balance_after",
                    "source_type",
                    "source_id",
                    "actor",
                    "reason",
                    "created_at",
                ],
            ),
            (
                "growth",
                GrowthEntry,
                [
                    "id",
                    "member",
                    "growth",
                    "spend",
                    "orders",
                    "source_type",
                    "source_id",
                    "occurred_at",
                    "reason",
                ],
            ),
            (
                "state",
                MemberTier,
                [
                    "member",
                    "tier",
                    "tier_since",
                    "growth_total",
                    "spend_total",
                    "orders_total",
                    "evaluate_at",
                ],
            ),
        )
    }
    ctx = {
        "partner_pk": partner.pk,
        "rule": rule,
        "rate": rate,
        "policy": policy,
        "window": window,
        "tables": tables,
        "tiers": tiers,
        "windows": rules.windows_of(tiers),
        "default_tier": tier_default(),
    }
    total_orders = 0
    batches = 0
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
        total_orders += _seed_batch(batch, ctx, now, rng, days, weights)
        batches += 1
        if batches % 10 == 0:
            stdout.write(f"  orders: {total_orders} so far")
    stdout.write(f"  orders: {total_orders}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics for the queries that follow
            for model in (
                Order,
                OrderItem,
                PointsAccount,
                PointsLot,
                RuleAward,
                PointsEntry,
                GrowthEntry,
                MemberTier,
            ):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- fast writes -----------------------------------------------------------------------------


class _Table:
    """Rows of one model written in bulk with explicit ids: COPY on PostgreSQL, executemany
    elsewhere. The caller gives `fields` (the pk first) in every row; every other column gets
    its model default (auto_now columns: now), as Model() + bulk_create would."""

    def __init__(self, model, fields: list[str], *, now: datetime):
        meta = model._meta
        given = [meta.get_field(name) for name in fields]
        names = {f.name for f in given}
        others = [f for f in meta.concrete_fields if f.name not in names]
        self.model = model
        self.table = meta.db_table
        self.columns = [f.column for f in given + others]
        self.json = [i for i, f in enumerate(given) if isinstance(f, JSONField)]
        self.tail = tuple(
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            for f in others
        )
        self.tail = tuple(
            _json(v) if isinstance(f, JSONField) else v for f, v in zip(others, self.tail, strict=True)
        )

    def ids(self, n: int) -> list[int]:
        """n fresh primary keys, taken from the table's sequence (safe beside other writers)."""
        if n <= 0:
            return []
        pk = self.model._meta.pk.column
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, pk, n],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: one writer at a time; the batch's transaction holds the write lock.
            qn = connection.ops.quote_name
            cursor.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(self.table)}")  # noqa: S608
            start = cursor.fetchone()[0]
            return list(range(start + 1, start + n + 1))

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        qn = connection.ops.quote_name
        columns = ", ".join(qn(c) for c in self.columns)
        tail = self.tail
        json_idx = self.json
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {qn(self.table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        if json_idx:
                            row = tuple(_json(v) if i in json_idx else v for i, v in enumerate(row))
                        copy.write_row(row + tail)
                return
            ops = connection.ops
            adapt = ops.adapt_datetimefield_value

            def prep(row):
                if json_idx:
                    row = tuple(_json(v) if i in json_idx else v for i, v in enumerate(row))
                return tuple(adapt(v) if isinstance(v, datetime) else v for v in row + tail)

            marks = ", ".join(["%s"] * len(self.columns))
            sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({marks})"  # noqa: S608
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, [prep(r) for r in rows[start : start + 5000]])


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder)


# --- one batch of members --------------------------------------------------------------------


def _seed_batch(batch, ctx: dict, now, rng, days, weights) -> int:
    partner_pk, rule, rate, policy, window = (
        ctx["partner_pk"],
        ctx["rule"],
        ctx["rate"],
        ctx["policy"],
        ctx["window"],
    )
    # 1. Orders in memory: [member_pk, order_id, amount, channel, store_id, paid_at, points,
    #    growth, confirmed_at] and their lines.
    orders: list[list] = []
    items: list[list[tuple]] = []
    for member_pk, joined, status in batch:
        if status == "closed":
            continue
        count = min(int(rng.expovariate(1 / 5)), 40) if rng.random() < 0.85 else 0
        for paid_at in _order_times(rng, joined, now, count, days, weights):
            lines = []
            for _line in range(rng.choice([1, 1, 1, 2, 2, 3])):
                category, names, (low, high) = rng.choice(CATEGORIES)
                price = Decimal(rng.randint(low, high)) - Decimal("0.10") * rng.choice([0, 1])
                rng.choice(names)  # product name: not stored, kept for a stable random stream
                lines.append(
                    (
                        f"{category[:3].upper()}-{rng.randrange(1000):04d}",
                        category,
                        rng.choice([1, 1, 1, 2]),
                        price,
                    )
                )
            amount = sum((price * qty for _sku, _cat, qty, price in lines), Decimal("0"))
            order_id = f"SEED-{member_pk}-{len(orders)}-{rng.randrange(10**8):08d}"
            channel = rng.choice(CHANNELS)
            store_id = f"S{rng.randrange(1, 60):03d}" if rng.random() < 0.15 else ""
            confirmed_at = paid_at + window if paid_at + window <= now else None
            orders.append(
                [
                    member_pk,
                    order_id,
                    amount,
                    channel,
                    store_id,
                    paid_at,
                    int(amount * rate),
                    int(amount),
                    confirmed_at,
                ]
            )
            items.append(lines)
    t = ctx["tables"]
    with transaction.atomic():
        order_ids = t["order"].ids(len(orders))
        t["order"].insert(
            [
                (
                    oid,
                    partner_pk,
                    order_id,
                    member_pk,
                    amount,
                    "CNY",
                    channel,
                    store_id,
                    paid_at,
                    Order.Status.COMPLETED if confirmed_at else Order.Status.PAID,
                    points,
                    growth,
                    True,
                    confirmed_at,
                    paid_at,
                )
                for oid, (
                    member_pk,
                    order_id,
                    amount,
                    channel,
                    store_id,
                    paid_at,
                    points,
                    growth,
                    confirmed_at,
                ) in zip(order_ids, orders, strict=True)
            ]
        )
        n_items = sum(len(lines) for lines in items)
        item_ids = iter(t["item"].ids(n_items))
        t["item"].insert(
            [
                (next(item_ids), oid, sku, category, qty, price)
                for oid, lines in zip(order_ids, items, strict=True)
                for sku, category, qty, price in lines
            ]
        )
        # 2. Final balances per member, computed before the accounts are written.
        plan: list[tuple] = []  # (order pk, order, expires_at, expired)
        totals: dict[int, list[int]] = {}
        for oid, order in zip(order_ids, orders, strict=True):
            points, confirmed_at = order[6], order[8]
            if points <= 0:
                continue
            confirmed = confirmed_at is not None
            expires_at = lot_expiry(earned_at=confirmed_at, policy=policy) if confirmed else None
            expired = confirmed and expires_at is not None and expires_at <= now
            plan.append((oid, order, expires_at, expired))
            tot = totals.setdefault(order[0], [0, 0, 0, 0])  # available, pending, earned, expired
            tot[2] += points
            if not confirmed:
                tot[1] += points
            elif expired:
                tot[3] += points
            else:
                tot[0] += points
        open_members = [(pk, joined) for pk, joined, status in batch if status != "closed"]
        account_ids = t["account"].ids(len(open_members))
        accounts = {pk: aid for aid, (pk, _joined) in zip(account_ids, open_members, strict=True)}
        zero = [0, 0, 0, 0]
        t["account"].insert(
            [
                (aid, pk, *totals.get(pk, zero), joined)
                for aid, (pk, joined) in zip(account_ids, open_members, strict=True)
            ]
        )
        # 3. Lots and rule awards, one per order with points.
        lot_ids = t["lot"].ids(len(plan))
        t["lot"].insert(
            [
                (
                    lid,
                    accounts[order[0]],
                    PointsLot.State.AVAILABLE if order[8] else PointsLot.State.PENDING,
                    order[6],
                    0 if expired else order[6],
                    order[5],
                    order[5] + window,
                    expires_at,
                    "order",
                    str(oid),
                    oid,
                )
                for lid, (oid, order, expires_at, expired) in zip(lot_ids, plan, strict=True)
            ]
        )
        if rule is not None:
            award_ids = t["award"].ids(len(plan))
            t["award"].insert(
                [
                    (
                        aid,
                        rule.pk,
                        accounts[order[0]],
                        oid,
                        "order",
                        str(oid),
                        order[2],
                        Decimal("1"),
                        order[6],
                        order[5],
                    )
                    for aid, (oid, order, _e, _x) in zip(award_ids, plan, strict=True)
                ]
            )
        # 4. Ledger lines in time order per account, so balance_after is right line by line.
        moves: dict[int, list[tuple]] = {}
        for lid, (oid, order, expires_at, expired) in zip(lot_ids, plan, strict=True):
            pts = order[6]
            lines = moves.setdefault(accounts[order[0]], [])
            lines.append((order[5], 0, "earn", pts, 0, pts, "order", str(oid)))
            if order[8] is not None:
                lines.append((order[8], 1, "confirm", pts, pts, -pts, "lot", str(lid)))
                if expired:
                    lines.append((expires_at, 2, "expire", -pts, -pts, 0, "lot", str(lid)))
        entries: list[tuple] = []
        for account_pk, lines in moves.items():
            available = 0
            for at, _seq, kind, amount, d_available, d_pending, source_type, source_id in sorted(
                lines, key=lambda m: (m[0], m[1])
            ):
                available += d_available
                entries.append(
                    (account_pk, kind, amount, d_available, d_pending, available, source_type, source_id, at)
                )
        entry_ids = t["entry"].ids(len(entries))
        t["entry"].insert(
            [
                (eid, a, kind, amount, d_av, d_pe, bal, st, sid, "seed", "demo data", at)
                for eid, (a, kind, amount, d_av, d_pe, bal, st, sid, at) in zip(
                    entry_ids, entries, strict=True
                )
            ]
        )
    # 5. Growth value for the tier engine: the same entries and upgrades the order service
    #    records (its own transaction, as growth_bulk_record's chunks are).
    _record_growth(orders, order_ids, ctx=ctx, now=now)
    return len(orders)


def _record_growth(orders: list[list], order_ids: list[int], *, ctx: dict, now: datetime) -> None:
    if not orders:
        return
    member_pks = sorted({o[0] for o in orders})
    known = set(MemberTier.objects.filter(member_id__in=member_pks).values_list("member_id", flat=True))
    known.update(GrowthEntry.objects.filter(member_id__in=member_pks).values_list("member_id", flat=True))
    default = ctx["default_tier"]
    if default is None:
        known = set(member_pks)  # no tier configured: the service decides (and refuses)
    rows = [
        GrowthRow(
            member_id=o[0],
            growth=o[7],
            spend=o[2],
            orders=1,
            source_type="order",
            source_id=str(oid),
            occurred_at=o[5],
            reason=f"order {o[1]}",
        )
        for oid, o in zip(order_ids, orders, strict=True)
        if o[0] in known
    ]
    if rows:
        growth_bulk_record(rows=rows, as_of=now)
    fresh = [(oid, o) for oid, o in zip(order_ids, orders, strict=True) if o[0] not in known]
    if not fresh:
        return
    tiers, windows, t = ctx["tiers"], ctx["windows"], ctx["tables"]
    starts = {w: rules.months_before(now, w) for w in windows}
    per_member: dict[int, list] = {}  # growth, spend, orders totals, then per-window sums
    for _oid, o in fresh:
        acc = per_member.setdefault(o[0], [0, Decimal("0"), 0, {w: [0, Decimal("0"), 0] for w in windows}])
        acc[0] += o[7]
        acc[1] += o[2]
        acc[2] += 1
        for w, start in starts.items():
            if start <= o[5] <= now:
                s = acc[3][w]
                s[0] += o[7]
                s[1] += o[2]
                s[2] += 1
    states, upgrades = [], []
    for pk, (growth, spend, count, sums) in per_member.items():
        window_sums = {w: rules.WindowSums(growth=g, spend=sp, orders=n) for w, (g, sp, n) in sums.items()}
        best = rules.highest_qualified(tiers, window_sums)
        if best is not None and best.rank > default.rank and (growth > 0 or spend > 0 or count > 0):
            states.append((pk, best.pk, now, growth, spend, count, rules.next_evaluation(best, now)))
            upgrades.append((pk, best, window_sums))
        else:
            states.append((pk, default.pk, now, growth, spend, count, None))
    with transaction.atomic():
        growth_ids = t["growth"].ids(len(fresh))
        t["growth"].insert(
            [
                (gid, o[0], o[7], o[2], 1, "order", str(oid), o[5], f"order {o[1]}"[:255])
                for gid, (oid, o) in zip(growth_ids, fresh, strict=True)
            ]
        )
        t["state"].insert(states)
        if upgrades:
            _record_upgrades(upgrades, default=default, ctx=ctx, now=now)


def _record_upgrades(upgrades: list[tuple], *, default, ctx: dict, now: datetime) -> None:
    """The at-once upgrades: reasons as the growth service words them, then the tier
    service's bulk recorder (TierChange rows, notices, tier.changed webhook events, events)."""
    members = (
        get_user_model()
        .objects.only("id", "member_id", "email", "phone", "status")
        .in_bulk([pk for pk, _b, _s in upgrades])
    )
    changes = []
    for pk, best, sums in upgrades:
        window = sums.get(best.window_months) or rules.WindowSums()
        reason = _(
            "Qualified with growth value %(growth)s, spend %(spend)s and %(orders)s orders in %(months)s months"
        ) % {
            "growth": window.growth,
            "spend": format_money(Decimal(window.spend)),
            "orders": window.orders,
            "months": best.window_months,
        }
        changes.append((members[pk], default, best, reason))
    tier_changes_record_bulk(changes=changes, source=TierChange.Source.GROWTH, at=now)
