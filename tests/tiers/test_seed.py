"""The demo tiers seeder: activity growth as the growth rules give it, bounded paid memberships."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from tiers import seed
from tiers.models import GrowthEntry, GrowthRule, MemberTier, Subscription
from tiers.services import growth_record_for_activity
from tiers.services.growth import ACTIVITY_PREFIX

from .factories import make_member

pytestmark = pytest.mark.django_db


def test_activity_rows_equal_growth_record_for_activity():
    """Same events: the bulk rows give exactly the growth the per-event service gives."""
    GrowthRule.objects.update_or_create(event_type="check_in", defaults={"growth": 5, "daily_cap": 8})
    GrowthRule.objects.update_or_create(event_type="review", defaults={"growth": 20, "daily_cap": None})
    GrowthRule.objects.filter(event_type="share").update(is_active=False)
    rules = {r.event_type: r for r in GrowthRule.objects.filter(is_active=True)}
    now = timezone.now()
    bulk_members = [make_member() for _ in range(30)]
    rows = seed._activity_rows([m.pk for m in bulk_members], rules=rules, now=now, rng=random.Random(4))
    assert rows
    # Replay the same events one by one on twin members through the service.
    twins = {m.pk: make_member() for m in bulk_members}
    rng = random.Random(4)
    service_growth: dict[int, int] = defaultdict(int)
    for m in bulk_members:
        if rng.random() >= seed.ACTIVE_SHARE:
            continue
        for day in range(rng.randint(1, 20)):
            at = now - timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 12))
            event = rng.choice(seed.EVENTS)
            service_growth[m.pk] += growth_record_for_activity(
                member=twins[m.pk], event_type=event, event_id=f"twin-{event}-{m.pk}-{day}", occurred_at=at
            )
    bulk_growth: dict[int, int] = defaultdict(int)
    for row in rows:
        bulk_growth[row.member_id] += row.growth
    assert {k: v for k, v in bulk_growth.items() if v} == {k: v for k, v in service_growth.items() if v}
    assert all(r.source_type.startswith(ACTIVITY_PREFIX) for r in rows)
    assert not any(r.source_type == ACTIVITY_PREFIX + "share" for r in rows)


def test_seed_tiers_records_capped_growth_and_bounded_purchases(monkeypatch):
    monkeypatch.setattr(seed, "MAX_PAID", 2)
    members = [make_member() for _ in range(120)]
    out = StringIO()
    seed.seed_tiers(members=len(members), stdout=out, rng=random.Random(9))
    assert "activity growth" in out.getvalue()
    entries = GrowthEntry.objects.filter(source_type__startswith=ACTIVITY_PREFIX)
    assert entries.exists()
    rules = {ACTIVITY_PREFIX + r.event_type: r for r in GrowthRule.objects.all()}
    per_day: dict[tuple, int] = defaultdict(int)
    for e in entries:
        per_day[(e.member_id, e.source_type, timezone.localtime(e.occurred_at).date())] += e.growth
    for (_pk, source_type, _day), total in per_day.items():
        cap = rules[source_type].daily_cap
        assert cap is None or total <= cap
    for state in MemberTier.objects.filter(pk__in={e.member_id for e in entries}):
        assert state.growth_total == sum(
            GrowthEntry.objects.filter(member_id=state.pk).values_list("growth", flat=True)
        )
    assert Subscription.objects.count() == 2
    # A second run adds no duplicate growth for the same events.
    count = entries.count()
    seed.seed_tiers(members=len(members), stdout=out, rng=random.Random(9))
    assert GrowthEntry.objects.filter(source_type__startswith=ACTIVITY_PREFIX).count() == count
