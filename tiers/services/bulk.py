"""Growth value in bulk: historical order imports and demo data (set-based, chunked).

Same ledger and the same at-once upgrade as growth_record, but one round of queries per
chunk instead of per entry: existing sources are skipped (idempotent), entries are inserted
with one bulk INSERT, lifetime totals are added with one UPDATE, window sums of every touched
member come from one grouped aggregate, and only members that reach a higher tier get the
per-member TierChange, notice, webhook and event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, DecimalField, F, IntegerField, Q, Value, When
from django.utils import timezone

from core.errors import ApplicationError

from .. import rules
from ..lock_objects import member_tiers_lock_many
from ..models import GrowthEntry, MemberTier
from ..selectors import sums_from_row, tier_list, window_aggregates
from .growth import _validate, apply_gain


@dataclass(frozen=True)
class GrowthRow:
    member_id: int  # the member's primary key
    growth: int
    source_type: str
    source_id: str
    occurred_at: datetime
    spend: Decimal = Decimal("0")
    orders: int = 0
    reason: str = ""


def _chunks(rows: Iterable[GrowthRow], size: int) -> Iterator[list[GrowthRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def growth_bulk_record(
    *, rows: Iterable[GrowthRow], chunk_size: int = 2000, as_of: datetime | None = None
) -> dict[str, int]:
    """Record many growth entries; each chunk commits on its own. Returns counts
    (recorded, duplicates, upgraded, upgraded:<from>-><to>). Member status is not checked:
    callers import history (orders:import, seeding) they have already accepted."""
    counts: Counter = Counter()
    as_of = as_of or timezone.now()
    tiers = tier_list()
    for chunk in _chunks(rows, chunk_size):
        with transaction.atomic():
            counts.update(_record_chunk(chunk, tiers=tiers, as_of=as_of))
    return dict(counts)


def _record_chunk(chunk: list[GrowthRow], *, tiers: list, as_of: datetime) -> Counter:
    counts: Counter = Counter()
    errors: dict[str, list[str]] = {}
    for i, row in enumerate(chunk):
        try:
            _validate(
                growth=row.growth,
                spend=row.spend,
                orders=row.orders,
                source_type=row.source_type,
                source_id=row.source_id,
                occurred_at=row.occurred_at,
            )
        except ApplicationError as exc:
            errors.update({f"{i}.{field}": msgs for field, msgs in exc.errors.items()})
    if errors:
        raise ApplicationError("Invalid growth entries.", errors=errors)
    unique: dict[tuple[str, str], GrowthRow] = {}
    for row in chunk:
        unique.setdefault((row.source_type, str(row.source_id)), row)
    states = member_tiers_lock_many(member_pks=[r.member_id for r in unique.values()])
    existing: set[tuple[str, str]] = set()
    by_type: dict[str, list[str]] = defaultdict(list)
    for source_type, source_id in unique:
        by_type[source_type].append(source_id)
    for source_type, ids in by_type.items():
        existing.update(
            GrowthEntry.objects.filter(source_type=source_type, source_id__in=ids).values_list(
                "source_type", "source_id"
            )
        )
    new = [row for key, row in unique.items() if key not in existing]
    counts["duplicates"] += len(chunk) - len(new)
    if not new:
        return counts
    GrowthEntry.objects.bulk_create(
        [
            GrowthEntry(
                member_id=r.member_id,
                growth=r.growth,
                spend=r.spend,
                orders=r.orders,
                source_type=r.source_type,
                source_id=str(r.source_id),
                occurred_at=r.occurred_at,
                reason=r.reason[:255],
            )
            for r in new
        ],
        batch_size=2000,
    )
    counts["recorded"] += len(new)
    totals: dict[int, list] = {}
    for r in new:
        t = totals.setdefault(r.member_id, [0, Decimal("0"), 0, False])
        t[0] += r.growth
        t[1] += r.spend
        t[2] += r.orders
        t[3] = t[3] or r.growth > 0 or r.spend > 0 or r.orders > 0
    money = DecimalField(max_digits=14, decimal_places=2)

    def delta(index: int, output):
        return Case(
            *[When(pk=pk, then=Value(t[index], output_field=output)) for pk, t in totals.items()],
            default=Value(0, output_field=output),
            output_field=output,
        )

    MemberTier.objects.filter(pk__in=list(totals)).update(
        growth_total=F("growth_total") + delta(0, IntegerField()),
        spend_total=F("spend_total") + delta(1, money),
        orders_total=F("orders_total") + delta(2, IntegerField()),
    )
    gained = sorted(pk for pk, t in totals.items() if t[3])
    if not gained or not tiers:
        return counts
    windows = rules.windows_of(tiers)
    sums = {
        row["member_id"]: sums_from_row(row, windows)
        for row in GrowthEntry.objects.filter(
            Q(member_id__in=gained),
            occurred_at__gte=rules.months_before(as_of, max(windows)),
            occurred_at__lte=as_of,
        )
        .values("member_id")
        .annotate(**window_aggregates(windows, as_of))
        .order_by()
    }
    candidates = [
        pk
        for pk in gained
        if (best := rules.highest_qualified(tiers, sums.get(pk, {}))) is not None
        and (best.rank > states[pk].tier.rank or states[pk].grace_until is not None)
    ]
    if not candidates:
        return counts
    members = get_user_model().objects.in_bulk(candidates)
    for pk in candidates:
        before = states[pk].tier
        outcome = apply_gain(
            member=members[pk], state=states[pk], tiers=tiers, sums=sums.get(pk, {}), as_of=as_of
        )
        if outcome == rules.Outcome.UPGRADED:
            after = rules.highest_qualified(tiers, sums.get(pk, {}))
            counts["upgraded"] += 1
            counts[f"upgraded:{before.code}->{after.code}"] += 1
        elif outcome == rules.Outcome.RETAINED:
            counts["grace_lifted"] += 1
    return counts
