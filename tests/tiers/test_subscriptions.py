"""Paid membership: grant on top of the earned tier, stacking, expiry fallback, reminders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import ApplicationError, Conflict
from core.models import AuditLog
from members.models import Notification
from tiers import selectors
from tiers.models import PaidPlan, Subscription, TierChange
from tiers.services import subscription_purchase, subscriptions_expire, tier_override_clear, tier_override_set

from .factories import grow, make_member, make_staff

pytestmark = pytest.mark.django_db


def test_plan_grants_tier_and_benefits_on_top_of_earned():
    member = make_member()
    grow(member, 1200)  # silver earned
    sub, created = subscription_purchase(member=member, plan="plus_year", payment_reference="pay-1")
    assert created and sub.status == "active"
    assert selectors.tier_earned(member=member).code == "silver"
    assert selectors.tier_effective(member=member).code == "gold"
    assert selectors.tier_points_multiplier(member=member) == Decimal("1.50")
    assert selectors.tier_discount_rate(member=member) == Decimal("0.90")
    codes = selectors.tier_benefit_codes(member=member)
    assert "free_shipping" in codes and len(codes) == len(set(codes))
    change = TierChange.objects.filter(member=member, source="subscription").get()
    assert (change.from_tier.code, change.to_tier.code) == ("silver", "gold")


def test_benefits_only_plan_keeps_earned_tier():
    member = make_member()
    plan = PaidPlan.objects.create(
        code="ship", name="包邮卡", price=Decimal("9.90"), duration_days=30, benefit_codes=["free_shipping"]
    )
    subscription_purchase(member=member, plan=plan, payment_reference="pay-ship")
    assert selectors.tier_effective(member=member).code == "regular"
    assert selectors.tier_benefit_codes(member=member) == ["member_day", "free_shipping"]
    assert not TierChange.objects.filter(member=member).exists()


def test_higher_earned_tier_wins_over_plan():
    member = make_member()
    grow(member, 21000)
    subscription_purchase(member=member, plan="plus_year", payment_reference="pay-d")
    assert selectors.tier_effective(member=member).code == "diamond"
    assert selectors.tier_discount_rate(member=member) == Decimal("0.85")


def test_replay_and_reused_reference():
    member, other = make_member(), make_member()
    first, created = subscription_purchase(member=member, plan="plus_year", payment_reference="pay-r")
    again, created_again = subscription_purchase(member=member, plan="plus_year", payment_reference="pay-r")
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(Conflict):
        subscription_purchase(member=other, plan="plus_year", payment_reference="pay-r")
    with pytest.raises(ApplicationError) as exc:
        subscription_purchase(member=member, plan="nope", payment_reference="pay-x")
    assert "plan" in exc.value.errors
    assert Subscription.objects.count() == 1


def test_purchase_while_active_stacks_after_current_end():
    member = make_member()
    first, _ = subscription_purchase(member=member, plan="plus_month", payment_reference="m1")
    second, _ = subscription_purchase(member=member, plan="plus_month", payment_reference="m2")
    assert second.starts_at == first.ends_at
    assert second.ends_at == first.ends_at + timedelta(days=30)
    assert selectors.subscription_paid_until(member=member) == second.ends_at
    # At the end of the first period the second continues: no fallback, no expiry notice.
    counts = subscriptions_expire(now=first.ends_at + timedelta(minutes=1))
    first.refresh_from_db()
    assert first.status == "expired" and counts["expired"] == 1
    assert selectors.tier_effective(member=member, now=first.ends_at + timedelta(minutes=1)).code == "silver"
    assert not Notification.objects.filter(member=member, kind="tier.subscription_expired").exists()
    assert TierChange.objects.filter(member=member).count() == 1  # only the start


def test_expiry_falls_back_to_earned_tier_and_keeps_history():
    member = make_member()
    grow(member, 1500)
    sub, _ = subscription_purchase(member=member, plan="plus_year", payment_reference="y1")
    later = sub.ends_at + timedelta(hours=1)
    counts = subscriptions_expire(now=later)
    assert counts["expired"] == 1 and counts["fell_back:gold->silver"] == 1
    sub.refresh_from_db()
    assert sub.status == "expired" and sub.ended_at == later
    assert selectors.tier_effective(member=member, now=later).code == "silver"
    last = TierChange.objects.filter(member=member).first()
    assert (last.from_tier.code, last.to_tier.code, last.source) == ("gold", "silver", "subscription")
    assert Notification.objects.filter(member=member, kind="tier.subscription_expired").count() == 1
    assert subscriptions_expire(now=later).get("expired", 0) == 0
    assert TierChange.objects.filter(member=member).count() == 3  # silver, gold, back to silver
    assert Subscription.objects.filter(member=member).count() == 1


def test_renewal_reminder_once_for_auto_renew():
    member = make_member()
    sub, _ = subscription_purchase(member=member, plan="plus_month", payment_reference="ar1")
    assert sub.auto_renew
    soon = sub.ends_at - timedelta(days=2)
    assert subscriptions_expire(now=soon)["reminded"] == 1
    assert subscriptions_expire(now=soon)["reminded"] == 0
    assert Notification.objects.filter(member=member, kind="tier.subscription_renewal").count() == 1


def test_override_wins_is_audited_and_expires():
    member, operator = make_member(), make_staff()
    grow(member, 1200)
    until = timezone.now() + timedelta(days=7)
    diamond = [t for t in selectors.tier_list() if t.code == "diamond"][0]
    with pytest.raises(ApplicationError):
        tier_override_set(member=member, tier=diamond, reason=" ", actor=operator)
    tier_override_set(
        member=member, tier=diamond, reason="VIP complaint goodwill", until=until, actor=operator
    )
    assert selectors.tier_effective(member=member).code == "diamond"
    log = AuditLog.objects.get(action="tiers.override_set")
    assert log.after["override_tier"] == "diamond" and log.actor_user == operator
    counts = subscriptions_expire(now=until + timedelta(minutes=1))
    assert counts["overrides_ended"] == 1
    assert selectors.tier_effective(member=member).code == "silver"
    last = TierChange.objects.filter(member=member).first()
    assert (last.from_tier.code, last.to_tier.code, last.source) == ("diamond", "silver", "override")
    tier_override_clear(member=member, actor=operator)  # nothing to clear: no new change
    assert TierChange.objects.filter(member=member, source="override").count() == 2


def test_start_in_the_past_is_kept_but_not_an_already_ended_period():
    member = make_member()
    start = timezone.now() - timedelta(days=10)
    sub, _ = subscription_purchase(
        member=member, plan="plus_month", payment_reference="late-1", starts_at=start
    )
    assert sub.starts_at == start and sub.ends_at == start + timedelta(days=30)
    with pytest.raises(ApplicationError) as exc:
        subscription_purchase(
            member=make_member(),
            plan="plus_month",
            payment_reference="late-2",
            starts_at=timezone.now() - timedelta(days=31),
        )
    assert "starts_at" in exc.value.errors
    assert not Subscription.objects.filter(payment_reference="late-2").exists()
