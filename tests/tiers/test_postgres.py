"""On PostgreSQL: the chunked job equals the per-member rule; locks hold under concurrency."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tiers import rules, selectors
from tiers.models import GrowthEntry, MemberTier, Subscription, TierChange
from tiers.services import growth_record, subscription_purchase, tiers_reevaluate
from tiers.services.reevaluation import member_tier_decide

from .factories import make_member

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_chunked_job_equals_per_member_rule():
    """Random states over ~2,000 members: bulk-made for speed (the job only reads rows)."""
    rng = random.Random(7)
    User = get_user_model()
    as_of = timezone.now()
    tiers = selectors.tier_list()
    by_code = {t.code: t for t in tiers}
    users = User.objects.bulk_create(
        [User(phone=f"1520000{i:04d}", password="!") for i in range(2000)], batch_size=1000
    )
    states, entries = [], []
    for i, user in enumerate(users):
        tier = by_code[rng.choice(["regular", "silver", "silver", "gold", "gold", "diamond"])]
        due = rng.random() < 0.8
        grace = rng.choice([None, None, as_of - timedelta(days=1), as_of + timedelta(days=5)])
        states.append(
            MemberTier(
                member=user,
                tier=tier,
                evaluate_at=(as_of - timedelta(days=rng.randint(0, 30)))
                if due
                else as_of + timedelta(days=9),
                grace_until=grace if tier.rank else None,
            )
        )
        for j in range(rng.randint(0, 6)):
            # Around the 12-month boundary on purpose: some just inside, some just outside.
            days = rng.choice([rng.randint(0, 400), 365, 366, 364])
            at = as_of - timedelta(days=days, minutes=rng.randint(-30, 30))
            growth = rng.choice([100, 800, 1500, 4000, 6000, 17000, -500])
            entries.append(
                GrowthEntry(
                    member=user,
                    growth=growth,
                    spend=Decimal(growth),
                    orders=1 if growth > 0 else -1,
                    source_type="bulk",
                    source_id=f"{i}-{j}",
                    occurred_at=at,
                )
            )
    MemberTier.objects.bulk_create(states, batch_size=1000)
    GrowthEntry.objects.bulk_create(entries, batch_size=2000)

    windows = rules.windows_of(tiers)
    tiers_by_pk = {t.pk: t for t in selectors.tier_list(include_inactive=True)}
    expected = {}
    for state in MemberTier.objects.filter(evaluate_at__lte=as_of).order_by("pk"):
        sums = selectors.member_window_sums(member=state.member, windows=windows, as_of=as_of)
        expected[state.pk] = member_tier_decide(
            state=state, tiers=tiers, tiers_by_pk=tiers_by_pk, sums=sums, as_of=as_of
        )
    untouched = {
        pk: (tier_id, ev, gr)
        for pk, tier_id, ev, gr in MemberTier.objects.filter(evaluate_at__gt=as_of).values_list(
            "pk", "tier_id", "evaluate_at", "grace_until"
        )
    }
    assert len({d.outcome for d in expected.values()}) >= 4  # the data exercises the rule

    counts = tiers_reevaluate(now=as_of, chunk_size=300)

    assert counts["evaluated"] == len(expected)
    assert counts["chunks"] >= len(expected) // 300
    for pk, tier_id, evaluate_at, grace_until in MemberTier.objects.values_list(
        "pk", "tier_id", "evaluate_at", "grace_until"
    ):
        if pk in untouched:
            assert (tier_id, evaluate_at, grace_until) == untouched[pk]
            continue
        d = expected[pk]
        assert (tier_id, evaluate_at, grace_until) == (d.tier.pk, d.evaluate_at, d.grace_until), pk
    moved = sum(1 for d in expected.values() if d.outcome in ("upgraded", "downgraded"))
    assert TierChange.objects.filter(source="reevaluation").count() == moved
    assert counts.get("downgraded", 0) + counts.get("upgraded", 0) == moved

    before = list(MemberTier.objects.order_by("pk").values_list("tier_id", "evaluate_at", "grace_until"))
    again = tiers_reevaluate(now=as_of, chunk_size=300)
    assert again.get("evaluated", 0) == 0
    assert (
        list(MemberTier.objects.order_by("pk").values_list("tier_id", "evaluate_at", "grace_until")) == before
    )


def _run_in_threads(target, n=2):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_growth_upgrades_once_and_sums_exactly():
    member = make_member()
    now = timezone.now()

    def work(i):
        for k in range(5):
            growth_record(
                member=member,
                growth=300,
                spend=Decimal("300.00"),
                orders=1,
                source_type="order",
                source_id=f"t{i}-{k}",
                occurred_at=now,
            )

    assert _run_in_threads(work, n=3) == []
    state = MemberTier.objects.get(member=member)
    assert state.growth_total == 4500 and state.orders_total == 15
    assert state.tier.code == "silver"
    assert TierChange.objects.filter(member=member).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_source_records_once():
    member = make_member()
    now = timezone.now()
    results = []

    def work(i):
        results.append(
            growth_record(member=member, growth=1000, source_type="order", source_id="same", occurred_at=now)
        )

    assert _run_in_threads(work, n=3) == []
    assert sum(1 for r in results if r is not None) == 1
    assert MemberTier.objects.get(member=member).growth_total == 1000


@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_stack_without_overlap():
    member = make_member()

    def work(i):
        subscription_purchase(member=member, plan="plus_month", payment_reference=f"p{i}")

    assert _run_in_threads(work, n=3) == []
    subs = list(Subscription.objects.filter(member=member).order_by("starts_at"))
    assert len(subs) == 3
    for earlier, later in zip(subs, subs[1:], strict=False):
        assert later.starts_at == earlier.ends_at
