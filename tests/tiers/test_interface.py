"""The interface other apps build on: growth_record and the effective-tier selectors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import OutboxEvent
from members.models import Notification
from tiers import selectors
from tiers.models import GrowthEntry, MemberTier, TierChange
from tiers.services import growth_record, growth_record_for_activity

from .factories import grow, make_member

pytestmark = pytest.mark.django_db


def test_default_catalogue_exists():
    codes = [t.code for t in selectors.tier_list()]
    assert codes == ["regular", "silver", "gold", "diamond"]
    gold = selectors.tier_list()[2]
    assert (gold.growth_threshold, gold.points_multiplier, gold.discount_rate) == (
        5000,
        Decimal("1.50"),
        Decimal("0.90"),
    )


def test_new_member_has_entry_tier_and_neutral_values():
    member = make_member()
    assert selectors.tier_effective(member=member).code == "regular"
    assert selectors.tier_points_multiplier(member=member) == Decimal("1.00")
    assert selectors.tier_discount_rate(member=member) == Decimal("1.00")
    assert selectors.tier_benefit_codes(member=member) == ["member_day"]


def test_exactly_at_threshold_upgrades_one_below_does_not():
    below, exact = make_member(), make_member()
    grow(below, 999)
    grow(exact, 1000)
    assert selectors.tier_effective(member=below).code == "regular"
    assert selectors.tier_effective(member=exact).code == "silver"
    assert selectors.tier_points_multiplier(member=exact) == Decimal("1.20")
    assert selectors.tier_discount_rate(member=exact) == Decimal("0.95")


def test_upgrade_records_change_notifies_emits_and_publishes():
    from core import events

    seen = []

    def handler(**payload):
        seen.append(payload)

    events.subscribe(events.TIER_CHANGED, handler)
    try:
        member = make_member()
        entry = grow(member, 5200)
    finally:
        events.unsubscribe(events.TIER_CHANGED, handler)
    assert entry is not None
    state = MemberTier.objects.get(member=member)
    assert state.tier.code == "gold"  # jumps straight to the highest tier reached
    assert state.growth_total == 5200
    assert state.evaluate_at is not None
    change = TierChange.objects.get(member=member)
    assert (change.from_tier.code, change.to_tier.code, change.source) == ("regular", "gold", "growth")
    assert Notification.objects.filter(member=member, kind="tier.changed").count() == 1
    event = OutboxEvent.objects.get(type="tier.changed")
    assert event.data["member_id"] == member.member_id and event.data["to_tier"] == "gold"
    assert [(p["old_tier"].code, p["new_tier"].code) for p in seen] == [("regular", "gold")]


def test_growth_record_is_idempotent_by_source():
    member = make_member()
    now = timezone.now()
    first = growth_record(
        member=member,
        growth=600,
        spend=Decimal("600.00"),
        orders=1,
        source_type="order",
        source_id="o-1",
        occurred_at=now,
    )
    second = growth_record(
        member=member,
        growth=600,
        spend=Decimal("600.00"),
        orders=1,
        source_type="order",
        source_id="o-1",
        occurred_at=now,
    )
    assert first is not None and second is None
    assert GrowthEntry.objects.filter(member=member).count() == 1
    assert MemberTier.objects.get(member=member).growth_total == 600


def test_refund_never_downgrades_at_once():
    member = make_member()
    grow(member, 1200, source_id="o-9")
    assert selectors.tier_effective(member=member).code == "silver"
    growth_record(
        member=member,
        growth=-1200,
        spend=Decimal("-1200.00"),
        orders=-1,
        source_type="refund",
        source_id="r-9",
        occurred_at=timezone.now(),
    )
    state = MemberTier.objects.get(member=member)
    assert state.tier.code == "silver"
    assert state.growth_total == 0
    assert TierChange.objects.filter(member=member).count() == 1


def test_upgrade_rolls_back_with_the_caller():
    from django.db import transaction

    member = make_member()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            grow(member, 1500)
            raise RuntimeError("caller fails")
    assert not GrowthEntry.objects.filter(member=member).exists()
    assert not TierChange.objects.filter(member=member).exists()
    assert not OutboxEvent.objects.filter(type="tier.changed").exists()
    assert selectors.tier_effective(member=member).code == "regular"


def test_activity_growth_respects_daily_cap_and_idempotency():
    member = make_member()
    now = timezone.now()
    assert (
        growth_record_for_activity(member=member, event_type="review", event_id="e1", occurred_at=now) == 20
    )
    assert growth_record_for_activity(member=member, event_type="review", event_id="e1", occurred_at=now) == 0
    assert (
        growth_record_for_activity(member=member, event_type="review", event_id="e2", occurred_at=now) == 20
    )
    assert (
        growth_record_for_activity(member=member, event_type="review", event_id="e3", occurred_at=now) == 20
    )
    assert growth_record_for_activity(member=member, event_type="review", event_id="e4", occurred_at=now) == 0
    tomorrow = now + timedelta(days=1)
    assert (
        growth_record_for_activity(member=member, event_type="review", event_id="e5", occurred_at=tomorrow)
        == 20
    )
    assert growth_record_for_activity(member=member, event_type="unknown", event_id="x", occurred_at=now) == 0
    assert MemberTier.objects.get(member=member).growth_total == 80


def test_growth_for_amount_is_one_per_cny_rounded_down():
    assert selectors.growth_for_amount(amount=Decimal("199.99")) == 199
    assert selectors.growth_for_amount(amount=Decimal("-5")) == 0


def test_frozen_member_earns_no_growth_but_refunds_still_apply():
    from core.errors import ApplicationError
    from members.services import member_freeze

    member = make_member()
    grow(member, 1200, source_id="before-freeze")
    member_freeze(member=member, reason="risk review")
    member.refresh_from_db()
    with pytest.raises(ApplicationError) as exc:
        grow(member, 100)
    assert exc.value.code == "member_frozen"
    assert (
        growth_record_for_activity(
            member=member, event_type="review", event_id="f1", occurred_at=timezone.now()
        )
        == 0
    )
    refund = growth_record(
        member=member,
        growth=-200,
        spend=Decimal("-200.00"),
        source_type="refund",
        source_id="r-f",
        occurred_at=timezone.now(),
    )
    assert refund is not None
    assert MemberTier.objects.get(member=member).growth_total == 1000


def test_bad_input_changes_nothing():
    from core.errors import ApplicationError

    member = make_member()
    with pytest.raises(ApplicationError) as exc:
        growth_record(
            member=member,
            growth=1.5,
            spend=Decimal("1.234"),
            source_type="",
            source_id="x",
            occurred_at=timezone.now().replace(tzinfo=None),
        )
    assert set(exc.value.errors) == {"growth", "spend", "source_type", "occurred_at"}
    assert not GrowthEntry.objects.exists() and not MemberTier.objects.exists()
