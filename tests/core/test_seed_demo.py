"""seed_demo end to end at small N: the bulk seeders leave every table as the services would."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from benefits.models import Coupon, CouponEvent, CouponTemplate
from core.models import OutboxEvent
from members import sms
from members.models import User
from points.models import PointsAccount
from points.services import points_reconcile
from tiers import rules
from tiers.models import GrowthEntry, MemberTier, TierChange
from tiers.selectors import member_window_sums, tier_list
from tiers.services import tiers_reevaluate

pytestmark = pytest.mark.django_db(transaction=True)


def _seed(members: int = 120, seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", members=members, seed=seed, force=True, stdout=out)
    return out.getvalue()


def test_seed_demo_keeps_every_invariant():
    sms.outbox.clear()
    out = _seed()
    assert "Demo data loaded." in out
    members = User.objects.filter(is_staff=False)
    assert members.count() == 120

    # Points: every balance equals its ledger and its lots.
    assert PointsAccount.objects.exists()
    assert points_reconcile().drift_count == 0

    # Tiers: a state row for every member with growth, totals equal the ledger, the earned
    # tier is the highest the window sums reach, and a re-evaluation now changes nothing.
    with_growth = set(GrowthEntry.objects.values_list("member_id", flat=True).distinct())
    assert with_growth
    states = {s.pk: s for s in MemberTier.objects.select_related("tier")}
    assert with_growth <= set(states)
    tiers = tier_list()
    windows = rules.windows_of(tiers)
    now = timezone.now()
    totals = {
        row["member_id"]: row["n"]
        for row in GrowthEntry.objects.values("member_id").annotate(n=Count("id")).order_by()
    }
    for pk in with_growth:
        state = states[pk]
        assert state.growth_total == sum(
            GrowthEntry.objects.filter(member_id=pk).values_list("growth", flat=True)
        ), pk
        assert totals[pk] >= 1
        best = rules.highest_qualified(
            tiers, member_window_sums(member=state.member, windows=windows, as_of=now)
        )
        if state.grace_until is None:
            assert state.tier.rank >= best.rank, pk
    upgraded = {s.pk for s in states.values() if s.tier.rank > 0}
    assert upgraded <= set(TierChange.objects.values_list("member_id", flat=True))
    before = {s.pk: (s.tier_id, s.evaluate_at, s.grace_until) for s in MemberTier.objects.all()}
    changes_before = TierChange.objects.count()
    tiers_reevaluate()
    after = {s.pk: (s.tier_id, s.evaluate_at, s.grace_until) for s in MemberTier.objects.all()}
    assert after == before
    assert TierChange.objects.count() == changes_before

    # Coupons: each template's issued_count is the number of coupons issued from it, each
    # coupon has its ISSUED event and its coupon.issued webhook event.
    for template in CouponTemplate.objects.all():
        assert template.issued_count == Coupon.objects.filter(template=template).count(), template.code
    assert Coupon.objects.exists()
    assert CouponEvent.objects.filter(kind="issued").count() == Coupon.objects.count()
    assert OutboxEvent.objects.filter(type="coupon.issued").count() == Coupon.objects.count()
    assert Coupon.objects.filter(status="redeemed").exists()

    # Nobody was messaged.
    assert mail.outbox == []
    assert sms.outbox == []


def test_seed_demo_twice_adds_members_and_stays_consistent():
    _seed(members=40, seed=1)
    _seed(members=40, seed=2)
    assert User.objects.filter(is_staff=False).count() == 80
    assert points_reconcile().drift_count == 0
    for template in CouponTemplate.objects.all():
        assert template.issued_count == Coupon.objects.filter(template=template).count(), template.code
    with_growth = set(GrowthEntry.objects.values_list("member_id", flat=True).distinct())
    assert with_growth <= set(MemberTier.objects.values_list("member_id", flat=True))
