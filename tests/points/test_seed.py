"""The demo orders seeder writes in bulk what the services would: ledger, lots, growth, tiers."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.db.models import Sum
from django.utils import timezone

from core.models import OutboxEvent
from members.models import Notification, User
from points.models import Order, OrderItem, PointsAccount, PointsEntry, PointsLot, RuleAward
from points.seed import seed_orders
from points.services import points_reconcile
from tiers import rules
from tiers.models import GrowthEntry, MemberTier, TierChange
from tiers.selectors import member_window_sums, tier_default, tier_list
from tiers.services import GrowthRow, growth_bulk_record

pytestmark = pytest.mark.django_db


def _members(n: int) -> list[User]:
    now = timezone.now()
    return [
        User.objects.create(
            member_id=f"m_seedtest{i:06d}",
            phone=f"139{i:08d}",
            referral_code=f"SEEDT{i:05d}",
            date_joined=now - timedelta(days=700),
        )
        for i in range(n)
    ]


def test_orders_seeder_ledger_and_tiers_match_the_services():
    _members(40)
    out = StringIO()
    seed_orders(members=40, stdout=out, rng=random.Random(5))
    assert Order.objects.exists() and OrderItem.objects.exists()
    assert PointsAccount.objects.count() == 40
    assert PointsLot.objects.count() == Order.objects.filter(points_awarded__gt=0).count()
    assert RuleAward.objects.count() in (0, PointsLot.objects.count())
    assert points_reconcile().drift_count == 0
    for account in PointsAccount.objects.all():
        last = PointsEntry.objects.filter(account=account).order_by("created_at", "pk").last()
        assert (last.balance_after if last else 0) == account.available

    # One growth entry per order; states hold the totals and the highest tier reached.
    assert GrowthEntry.objects.filter(source_type="order").count() == Order.objects.count()
    tiers = tier_list()
    windows = rules.windows_of(tiers)
    default = tier_default()
    now = timezone.now()
    upgraded = 0
    for state in MemberTier.objects.select_related("tier", "member"):
        entries = GrowthEntry.objects.filter(member_id=state.pk)
        assert state.growth_total == entries.aggregate(n=Sum("growth"))["n"]
        assert state.orders_total == entries.count()
        assert state.spend_total == entries.aggregate(s=Sum("spend"))["s"]
        best = rules.highest_qualified(
            tiers, member_window_sums(member=state.member, windows=windows, as_of=now)
        )
        assert state.tier == best
        if state.tier != default:
            upgraded += 1
            assert state.evaluate_at is not None and state.evaluate_at > now
            assert TierChange.objects.filter(member_id=state.pk, to_tier=best, from_tier=default).count() == 1
            change = TierChange.objects.get(member_id=state.pk)
            assert Notification.objects.filter(
                member_id=state.pk, dedupe_key=f"tier.changed:{change.pk}"
            ).exists()
        else:
            assert state.evaluate_at is None
    members_with_orders = Order.objects.values("member_id").distinct().count()
    assert MemberTier.objects.count() == members_with_orders
    assert upgraded > 0
    assert TierChange.objects.count() == upgraded
    assert OutboxEvent.objects.filter(type="tier.changed").count() == upgraded
    data = OutboxEvent.objects.filter(type="tier.changed").first().data
    assert data["direction"] == "up" and data["member_id"].startswith("m_")
    assert "orders:" in out.getvalue()

    # A second run adds nothing for members that already have an account.
    seed_orders(members=40, stdout=out, rng=random.Random(6))
    assert GrowthEntry.objects.count() == Order.objects.count()


def test_members_already_in_the_tier_engine_go_through_growth_bulk_record():
    (member,) = _members(1)
    growth_bulk_record(
        rows=[
            GrowthRow(
                member_id=member.pk,
                growth=10,
                spend=Decimal("10"),
                orders=1,
                source_type="import",
                source_id="pre-1",
                occurred_at=timezone.now() - timedelta(days=3),
            )
        ]
    )
    seed_orders(members=1, stdout=StringIO(), rng=random.Random(11))
    state = MemberTier.objects.get(pk=member.pk)
    entries = GrowthEntry.objects.filter(member=member)
    assert state.growth_total == entries.aggregate(n=Sum("growth"))["n"]
    assert state.orders_total == entries.aggregate(n=Sum("orders"))["n"]
    assert points_reconcile().drift_count == 0
