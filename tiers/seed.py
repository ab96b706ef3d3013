"""Demo data for tiers: activity growth, paid memberships and a re-evaluation run.

Runs after the orders seeder (whose orders already recorded growth value in bulk), so tiers
reflect realistic spend. Set-based and chunked by member pk (bounded memory for a million
members):

- activity growth (check-ins, reviews, shares of ~10% of active members) is computed here
  with the operator's GrowthRule exactly as growth_record_for_activity would give it (fixed
  growth per event, the daily cap per member and local day, nothing for inactive members or
  without an active rule) and recorded with growth_bulk_record, which also upgrades at once;
- paid memberships go through subscription_purchase (tier changes, notices), for 3% of the
  active members but at most MAX_PAID, so the per-purchase service stays off the hot path;
- the re-evaluation run is the set-based nightly job.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import GrowthEntry, GrowthRule, PaidPlan
from .services import GrowthRow, growth_bulk_record, subscription_purchase, tiers_reevaluate
from .services.growth import ACTIVITY_PREFIX

CHUNK = 5000  # members per pk range
ACTIVE_SHARE = 0.10  # members with activity growth
PAID_SHARE = 0.03  # members with a paid membership...
MAX_PAID = 1000  # ...but no more than this many purchases (one service call each)
EVENTS = ["check_in", "check_in", "review", "share"]


def _member_chunks(User, chunk: int = CHUNK):
    """Active members' pks, one pk range at a time (never all pks in memory)."""
    last = 0
    while True:
        pks = list(
            User.objects.filter(is_staff=False, status="active", pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk]
        )
        if not pks:
            return
        last = pks[-1]
        yield pks


def _local_day(moment):
    return timezone.localtime(moment).date()


def _activity_rows(pks: list[int], *, rules: dict, now, rng: random.Random) -> list[GrowthRow]:
    """The growth entries growth_record_for_activity would record for these members' events."""
    events = []
    for pk in pks:
        if rng.random() >= ACTIVE_SHARE:
            continue
        for day in range(rng.randint(1, 20)):
            at = now - timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 12))
            event = rng.choice(EVENTS)
            events.append((pk, event, f"demo-{event}-{pk}-{day}", at))
    if not events:
        return []
    source_types = {(ACTIVITY_PREFIX + e)[:40]: e for e in rules}
    # Growth already given per (member, activity, local day): only a re-run has any.
    used: dict[tuple, int] = defaultdict(int)
    seen: set[tuple[str, str]] = set()
    if source_types:
        for member_id, source_type, source_id, occurred_at, growth in GrowthEntry.objects.filter(
            member_id__gte=pks[0], member_id__lte=pks[-1], source_type__in=list(source_types)
        ).values_list("member_id", "source_type", "source_id", "occurred_at", "growth"):
            used[(member_id, source_type, _local_day(occurred_at))] += growth
            seen.add((source_type, source_id))
    rows = []
    for pk, event, event_id, at in events:
        rule = rules.get(event)
        if rule is None or rule.growth <= 0:
            continue
        source_type = (ACTIVITY_PREFIX + event)[:40]
        if (source_type, event_id) in seen:
            continue
        growth = rule.growth
        key = (pk, source_type, _local_day(at))
        if rule.daily_cap is not None:
            growth = min(growth, max(0, rule.daily_cap - used[key]))
        if growth <= 0:
            continue
        used[key] += growth
        seen.add((source_type, event_id))
        rows.append(
            GrowthRow(
                member_id=pk,
                growth=growth,
                source_type=source_type,
                source_id=event_id,
                occurred_at=at,
                reason=rule.name or event,
            )
        )
    return rows


def seed_tiers(*, members: int, stdout, rng: random.Random) -> None:
    User = get_user_model()
    now = timezone.now()
    rules = {r.event_type: r for r in GrowthRule.objects.filter(is_active=True, event_type__in=set(EVENTS))}
    activities = 0
    for pks in _member_chunks(User):
        rows = _activity_rows(pks, rules=rules, now=now, rng=rng)
        if rows:
            growth_bulk_record(rows=rows, as_of=now)
            activities += sum(r.growth for r in rows)
    bought = 0
    plans = list(PaidPlan.objects.filter(is_active=True).order_by("price"))
    total = User.objects.filter(is_staff=False, status="active").count()
    if plans and total:
        k = min(max(1, total * 3 // 100), MAX_PAID, total)
        picked = sorted(rng.sample(range(total), k=k))  # positions in pk order
        position, i = 0, 0
        for pks in _member_chunks(User):
            while i < len(picked) and picked[i] < position + len(pks):
                pk = pks[picked[i] - position]
                plan = rng.choice(plans)
                start = now - timedelta(days=rng.randint(0, max(0, plan.duration_days - 1)))
                _sub, created = subscription_purchase(
                    member=User.objects.get(pk=pk),
                    plan=plan,
                    payment_reference=f"demo-pay-{pk}",
                    starts_at=start,
                )
                bought += int(created)
                i += 1
            position += len(pks)
            if i >= len(picked):
                break
    counts = tiers_reevaluate()
    stdout.write(f"  tiers: {activities} activity growth, {bought} paid memberships, re-evaluation {counts}")
