"""POST /orders is the hot path: its statement count is bounded so it cannot creep back up.

Counts are taken inside the test's transaction, so each bound includes the savepoints that
order_record opens when it runs nested (the outer atomic and the order insert: 4 statements
that a request outside any transaction does not send).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import Partner
from points.models import Order, PointsAccount
from points.services import order_record
from tiers.models import GrowthEntry, MemberTier, TierChange

from .factories import make_member

pytestmark = pytest.mark.django_db

ITEMS = [
    {"sku": "A", "category": "apparel", "quantity": 1, "unit_price": "60.00"},
    {"sku": "B", "category": "beauty", "quantity": 2, "unit_price": "20.00"},
]


@pytest.fixture
def shop():
    return Partner.objects.get_or_create(name="shop")[0]


def _record(shop, member, order_id, amount="100.00"):
    return order_record(
        partner=shop,
        order_id=order_id,
        member=member,
        amount=Decimal(amount),
        paid_at=timezone.now(),
        items=ITEMS,
    )


def test_order_without_tier_change_stays_under_the_bound(shop, django_assert_max_num_queries):
    member = make_member()
    _record(shop, member, "warm-up", "10.00")  # account and tier state exist from now on
    with django_assert_max_num_queries(22):
        outcome = _record(shop, member, "Q1")
    assert outcome.created
    assert outcome.body == {
        "order_id": "Q1",
        "points_pending": 100,
        "points_awarded": 100,
        "growth_value": 100,
        "tier": "regular",
    }
    state = MemberTier.objects.get(member=member)
    assert (state.growth_total, state.spend_total, state.orders_total) == (110, Decimal("110.00"), 2)


def test_first_order_with_upgrade_stays_under_the_bound(shop, django_assert_max_num_queries):
    member = make_member()
    # First order of the member (account and tier state created on first use) and an upgrade
    # (TierChange, inbox notice, outbox row).
    with django_assert_max_num_queries(38):
        outcome = _record(shop, member, "Q2", "5000.00")
    assert outcome.created
    assert outcome.body["tier"] != "regular"
    assert TierChange.objects.filter(member=member).count() == 1
    state = MemberTier.objects.select_related("tier").get(member=member)
    assert state.tier.code == outcome.body["tier"]
    assert state.growth_total == 5000
    # The upgraded member's next order: the tier multiplier of the new tier applies.
    outcome = _record(shop, member, "Q3", "100.00")
    assert outcome.body["points_awarded"] > 100


def test_replay_is_cheap_and_changes_nothing(shop, django_assert_max_num_queries):
    member = make_member()
    first = _record(shop, member, "Q4")
    with django_assert_max_num_queries(8):
        again = _record(shop, member, "Q4")
    assert not again.created
    assert again.order.pk == first.order.pk
    assert again.body == first.body
    assert Order.objects.filter(order_id="Q4").count() == 1
    assert GrowthEntry.objects.filter(member=member).count() == 1
    assert PointsAccount.objects.get(member=member).pending == first.body["points_pending"]


def test_frozen_member_is_refused_and_nothing_is_left_behind(shop):
    from core.errors import ApplicationError

    member = make_member()
    member.status = member.Status.FROZEN
    member.save(update_fields=["status"])
    with pytest.raises(ApplicationError) as exc:
        _record(shop, member, "Q5")
    assert exc.value.code == "member_frozen"
    assert not Order.objects.filter(order_id="Q5").exists()


def test_top_tier_member_skips_the_window_sums(shop, django_assert_max_num_queries):
    from tiers.models import Tier

    member = make_member()
    top = Tier.objects.filter(is_active=True).order_by("-rank").first()
    MemberTier.objects.create(member=member, tier=top)
    _record(shop, member, "warm-up-top", "10.00")
    with django_assert_max_num_queries(21):
        outcome = _record(shop, member, "Q6")
    assert outcome.body["tier"] == top.code


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_insert_decides_the_replay(shop):
    """Called with no transaction open (as a request is), the order insert runs without a
    savepoint; a replay aborts its own empty transaction and answers with the first order."""
    from django.db import connection

    member = make_member()
    assert not connection.in_atomic_block
    first = _record(shop, member, "T1")
    again = _record(shop, member, "T1")
    assert first.created and not again.created
    assert again.order.pk == first.order.pk and again.body == first.body
    assert GrowthEntry.objects.filter(member=member).count() == 1
    member.status = member.Status.FROZEN
    member.save(update_fields=["status"])
    assert not _record(shop, member, "T1").created  # a replay still answers for a frozen member
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        _record(shop, member, "T2")
    assert not Order.objects.filter(order_id="T2").exists()
    # The connection is usable afterwards (nothing left in an aborted transaction).
    assert Order.objects.filter(order_id="T1").count() == 1
