"""Ledger services: debt, FIFO expiry, holds, immutability, reconciliation, adjustments, rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict
from core.models import OutboxEvent, Partner
from points.models import (
    EarningRule,
    ImmutableRowError,
    PointsAccount,
    PointsEntry,
    PointsHold,
    PointsLot,
    PointsSettings,
)
from points.selectors import points_balance
from points.services import (
    order_complete,
    order_record,
    order_refund,
    points_adjustment_approve,
    points_adjustment_request,
    points_confirm_pending,
    points_expire_holds,
    points_expire_lots,
    points_hold_capture,
    points_hold_create,
    points_promo_multiplier_create,
    points_reconcile,
    points_remind_expiring,
    reward_create,
    reward_redeem,
)

from .factories import give_points, make_member, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return Partner.objects.get_or_create(name="shop")[0]


def _pay(shop, member, order_id, amount, paid_at=None, items=None):
    return order_record(
        partner=shop,
        order_id=order_id,
        member=member,
        amount=Decimal(amount),
        paid_at=paid_at or timezone.now(),
        items=items or [],
    ).order


def test_refund_after_spending_creates_debt_not_negative_balance(shop):
    member = make_member()
    order = _pay(shop, member, "A1", "300.00")
    order_complete(order=order)
    reward = reward_create(name="Gift", kind="goods", points_price=250)
    reward_redeem(member=member, reward=reward)
    assert points_balance(member=member)["available"] == 50
    refund, _ = order_refund(partner=shop, order_id="A1", refund_id="R1", amount=Decimal("300.00"))
    assert refund.points_reversed == 300 and refund.points_debt == 250
    assert points_balance(member=member) == {"available": 0, "pending": 0, "held": 0, "debt": 250}
    assert points_reconcile().drift_count == 0


def test_debt_is_repaid_first_by_later_earnings(shop):
    member = make_member()
    order = _pay(shop, member, "B1", "100.00")
    order_complete(order=order)
    reward_redeem(member=member, reward=reward_create(name="G", kind="goods", points_price=100))
    order_refund(partner=shop, order_id="B1", refund_id="R1", amount=Decimal("100.00"))
    assert points_balance(member=member)["debt"] == 100
    give_points(member, 60)
    assert points_balance(member=member) == {"available": 0, "pending": 0, "held": 0, "debt": 40}
    second = _pay(shop, member, "B2", "70.00")
    order_complete(order=second)  # confirmation repays too
    assert points_balance(member=member) == {"available": 30, "pending": 0, "held": 0, "debt": 0}
    assert points_reconcile().drift_count == 0


def test_refund_reverses_each_rules_points_not_a_recomputation(shop):
    member = make_member()
    EarningRule.objects.create(
        name="Beauty bonus",
        event_type="order_paid",
        mode="per_unit",
        points_per_unit=Decimal("2"),
        excluded_categories=["grocery"],
    )
    items = [
        {"sku": "B", "category": "beauty", "quantity": 1, "unit_price": "100.00"},
        {"sku": "G", "category": "grocery", "quantity": 1, "unit_price": "100.00"},
    ]
    order = _pay(shop, member, "C1", "200.00", items=items)
    assert order.points_awarded == 200 + 200  # 1/CNY on all + 2/CNY on the non-grocery half
    # The operator changes the rules afterwards: the refund still reverses what was given.
    EarningRule.objects.filter(event_type="order_paid").update(points_per_unit=Decimal("10"))
    refund, _ = order_refund(partner=shop, order_id="C1", refund_id="R1", amount=Decimal("50.00"))
    assert refund.points_reversed == 50 + 50
    refund, _ = order_refund(partner=shop, order_id="C1", refund_id="R2", amount=Decimal("150.00"))
    assert refund.points_reversed == 300
    assert points_balance(member=member)["pending"] == 0


def test_tier_and_promo_multipliers(shop, monkeypatch):
    member = make_member()
    from tiers.models import MemberTier, Tier

    # The member stands in a tier with a 1.5× points multiplier (gold by default).
    gold = Tier.objects.get(code="gold")
    assert gold.points_multiplier == Decimal("1.50")
    MemberTier.objects.create(member=member, tier=gold)
    now = timezone.now()
    points_promo_multiplier_create(
        name="双11",
        multiplier=Decimal("2"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        event_types=["order_paid"],
        source="campaign:1",
    )
    order = _pay(shop, member, "D1", "100.00")
    assert order.points_awarded == 300
    with pytest.raises(ApplicationError) as exc:
        points_promo_multiplier_create(name="", multiplier=Decimal("0.5"), starts_at=now, ends_at=now)
    assert {"multiplier", "ends_at", "name"} <= set(exc.value.errors)


def test_minimum_order_amount_and_validity_window(shop):
    member = make_member()
    EarningRule.objects.filter(event_type="order_paid").update(min_order_amount=Decimal("50.00"))
    assert _pay(shop, member, "E1", "49.99").points_awarded == 0
    assert _pay(shop, member, "E2", "50.00").points_awarded == 50
    EarningRule.objects.filter(event_type="order_paid").update(ends_at=timezone.now() - timedelta(days=1))
    assert _pay(shop, member, "E3", "80.00").points_awarded == 0


def test_expiry_spends_and_expires_fifo(shop):
    member = make_member()
    give_points(member, 100, "old")
    give_points(member, 100, "new")
    lots = list(PointsLot.objects.filter(account__member=member).order_by("pk"))
    PointsLot.objects.filter(pk=lots[0].pk).update(expires_at=timezone.now() + timedelta(days=1))
    PointsLot.objects.filter(pk=lots[1].pk).update(expires_at=timezone.now() + timedelta(days=300))
    reward_redeem(member=member, reward=reward_create(name="G", kind="goods", points_price=60))
    lots = list(PointsLot.objects.filter(account__member=member).order_by("pk"))
    assert [lot.remaining for lot in lots] == [40, 100]  # the oldest-expiring lot paid first
    counts = points_expire_lots(now=timezone.now() + timedelta(days=2))
    assert counts["lots"] == 1 and counts["points"] == 40
    assert points_balance(member=member)["available"] == 100
    assert PointsEntry.objects.filter(kind="expire").count() == 1
    assert OutboxEvent.objects.filter(type="points.expired").count() == 1
    again = points_expire_lots(now=timezone.now() + timedelta(days=2))  # idempotent
    assert again.get("lots", 0) == 0
    assert points_reconcile().drift_count == 0


def test_reminders_once_per_expiry_day(shop):
    member = make_member()
    give_points(member, 100)
    PointsLot.objects.filter(account__member=member).update(expires_at=timezone.now() + timedelta(days=3))
    assert points_remind_expiring()["reminded"] == 1
    assert points_remind_expiring().get("reminded", 0) == 0
    assert OutboxEvent.objects.filter(type="points.expiring").count() == 1
    assert member.notifications.filter(kind="points_expiring").count() == 1


def test_calendar_expiry_policy():
    PointsSettings.objects.update_or_create(pk=1, defaults={"expiry_policy": "calendar"})
    member = make_member()
    give_points(member, 10)
    lot = PointsLot.objects.get(account__member=member)
    local = timezone.localtime(lot.expires_at)
    assert (local.year, local.month, local.day, local.hour) == (timezone.localtime().year + 2, 1, 1, 0)


def test_confirm_pending_job_after_return_window(shop):
    member = make_member()
    _pay(shop, member, "F1", "20.00")
    assert points_confirm_pending().get("lots", 0) == 0
    counts = points_confirm_pending(now=timezone.now() + timedelta(days=8))
    assert counts["lots"] == 1
    assert points_balance(member=member) == {"available": 20, "pending": 0, "held": 0, "debt": 0}
    assert OutboxEvent.objects.filter(type="points.earned").exists()


def test_hold_expiry_returns_points(shop):
    member = make_member()
    give_points(member, 100)
    hold = points_hold_create(member=member, points=80, expires_in_seconds=60)
    assert points_expire_holds(now=timezone.now()).get("expired", 0) == 0
    PointsHold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict) as exc:
        points_hold_capture(hold_id=hold.hold_id)
    assert exc.value.code == "hold_not_active"
    assert points_expire_holds()["expired"] == 1
    assert points_balance(member=member) == {"available": 100, "pending": 0, "held": 0, "debt": 0}
    assert points_reconcile().drift_count == 0


def test_frozen_member_cannot_earn_or_spend(shop):
    member = make_member()
    give_points(member, 100)
    member.status = "frozen"
    member.save(update_fields=["status"])
    with pytest.raises(ApplicationError) as exc:
        points_hold_create(member=member, points=10)
    assert exc.value.code == "member_frozen"
    with pytest.raises(ApplicationError):
        _pay(shop, member, "Z1", "10.00")


def test_entries_are_immutable_in_the_orm():
    member = make_member()
    entry = give_points(member, 10)
    with pytest.raises(ImmutableRowError):
        entry.save()
    with pytest.raises(ImmutableRowError):
        entry.delete()
    with pytest.raises(ImmutableRowError):
        PointsEntry.objects.filter(pk=entry.pk).update(amount=99)
    with pytest.raises(ImmutableRowError):
        PointsEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.postgres
def test_entries_are_immutable_in_postgresql():
    from django.db import DatabaseError

    member = make_member()
    entry = give_points(member, 10)
    for sql in (
        "UPDATE points_pointsentry SET amount = 99 WHERE id = %s",
        "DELETE FROM points_pointsentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert PointsEntry.objects.get(pk=entry.pk).amount == 10


def test_reconciliation_detects_a_tampered_balance():
    member = make_member()
    give_points(member, 100)
    assert points_reconcile().drift_count == 0
    PointsAccount.objects.filter(member=member).update(available=1000)  # bypassing the services
    report = points_reconcile()
    assert report.drift_count == 1
    drift = report.drifts.get()
    assert (drift.balance, drift.recorded, drift.from_entries, drift.from_lots) == (
        "available",
        1000,
        100,
        100,
    )


def test_large_adjustment_needs_a_second_operator():
    member = make_member()
    first, second = make_staff(), make_staff()
    adjustment = points_adjustment_request(
        member=member, points=5000, reason="compensation", requested_by=first
    )
    assert adjustment.status == "pending"
    assert points_balance(member=member)["available"] == 0
    with pytest.raises(ApplicationError) as exc:
        points_adjustment_approve(adjustment=adjustment, approver=first)
    assert exc.value.code == "approval_required"
    adjustment = points_adjustment_approve(adjustment=adjustment, approver=second)
    assert adjustment.status == "posted"
    assert points_balance(member=member)["available"] == 5000
    small = points_adjustment_request(member=member, points=-100, reason="correction", requested_by=first)
    assert small.status == "posted"
    big = points_adjustment_request(member=member, points=-100000, reason="too much", requested_by=first)
    with pytest.raises(Conflict) as exc:
        points_adjustment_approve(adjustment=big, approver=second)
    assert exc.value.code == "insufficient_points"
    big.refresh_from_db()
    assert big.status == "pending"
    assert points_balance(member=member)["available"] == 4900
    assert points_reconcile().drift_count == 0


def test_registration_and_profile_events_award_once():
    from core import events

    member = make_member()
    events.publish(events.MEMBER_REGISTERED, member=member, channel="app", referrer=None)
    events.publish(events.MEMBER_REGISTERED, member=member, channel="app", referrer=None)
    events.publish(events.MEMBER_PROFILE_COMPLETED, member=member)
    assert points_balance(member=member)["available"] == 150


def test_fulfiller_registry_runs_inside_the_redemption():
    from points.rewards import fulfiller_for, register_fulfiller

    previous = fulfiller_for("coupon")  # benefits' fulfiller: put back afterwards

    def unregister_fulfiller(kind):
        register_fulfiller(kind, previous)

    member = make_member()
    give_points(member, 500)
    reward = reward_create(name="满100减10", kind="coupon", points_price=100, coupon_template_ref="T100")
    calls = []

    def issue(*, member, reward, redemption):
        calls.append(redemption.redemption_id)
        return {"coupon_code": "ABC"}

    register_fulfiller("coupon", issue)
    try:
        redemption = reward_redeem(member=member, reward=reward)
    finally:
        unregister_fulfiller("coupon")
    assert redemption.status == "fulfilled" and redemption.fulfilment == {"coupon_code": "ABC"}
    assert calls == [redemption.redemption_id]

    def broken(**kwargs):
        raise Conflict("template exhausted", code="coupon_out_of_stock")

    register_fulfiller("coupon", broken)
    try:
        with pytest.raises(Conflict):
            reward_redeem(member=member, reward=reward)
    finally:
        unregister_fulfiller("coupon")
    assert points_balance(member=member)["available"] == 400  # rolled back with the fulfiller


def test_expiry_in_small_chunks_covers_every_lot():
    members = [make_member() for _ in range(3)]
    for m in members:
        for i in range(5):
            give_points(m, 10 + i)
    PointsLot.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    counts = points_expire_lots(chunk_size=2)
    assert counts["lots"] == 15 and counts["points"] == 3 * (10 + 11 + 12 + 13 + 14)
    assert all(points_balance(member=m)["available"] == 0 for m in members)
    assert points_reconcile().drift_count == 0
