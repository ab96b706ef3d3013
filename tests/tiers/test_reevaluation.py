"""Re-evaluation: retention (保级), grace, one-step downgrade, idempotency, restart."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from core.models import JobRun, OutboxEvent
from members.models import Notification
from tiers import selectors
from tiers.models import MemberTier, ReevaluationRun, TierChange
from tiers.services import member_tier_reevaluate, tiers_reevaluate
from tiers.services import reevaluation as reevaluation_module

from .factories import grow, make_member

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(
        MemberTier.objects.values_list(
            "member_id", "tier__code", "evaluate_at", "grace_until", "growth_total"
        )
    )


def test_rolling_window_boundary_for_upgrade():
    now = timezone.now()
    inside, outside = make_member(), make_member()
    grow(inside, 1000, at=now - relativedelta(months=12) + timedelta(minutes=5))
    grow(outside, 1000, at=now - relativedelta(months=12) - timedelta(minutes=5))
    assert selectors.tier_effective(member=inside).code == "silver"
    assert selectors.tier_effective(member=outside).code == "regular"
    assert MemberTier.objects.get(member=outside).growth_total == 1000  # lifetime still counts


def test_rolling_window_boundary_for_retention():
    now = timezone.now()
    member = make_member()
    grow(member, 5000, at=now)  # gold, evaluated in 12 months
    grow(member, 4000, at=now + relativedelta(months=1))  # keeps gold if inside the window
    due = MemberTier.objects.get(member=member).evaluate_at
    # Window ends at as_of: the 4000 made a month in is inside 12 months for as_of = due...
    inside_as_of = now + relativedelta(months=13) - timedelta(minutes=5)
    assert inside_as_of >= due
    tiers_reevaluate(now=inside_as_of)
    state = MemberTier.objects.get(member=member)
    assert state.tier.code == "gold" and state.grace_until is None
    assert state.evaluate_at == inside_as_of + relativedelta(months=12)
    # ...and just outside it a year later nothing is left: the grace starts.
    outside_as_of = state.evaluate_at + timedelta(minutes=5)
    tiers_reevaluate(now=outside_as_of)
    state.refresh_from_db()
    assert state.tier.code == "gold" and state.grace_until == outside_as_of + timedelta(days=30)


def test_not_due_members_are_untouched():
    member = make_member()
    grow(member, 5000)
    before = snapshot()
    counts = tiers_reevaluate()
    assert snapshot() == before
    assert counts.get("evaluated", 0) == 0


def test_grace_then_one_step_downgrade_then_quiet():
    member = make_member()
    grow(member, 25000)  # diamond
    state = MemberTier.objects.get(member=member)
    assert state.tier.code == "diamond"
    first = state.evaluate_at + timedelta(days=1)  # the year's growth is out of the window now

    counts = tiers_reevaluate(now=first)
    state.refresh_from_db()
    assert counts["grace_started"] == 1
    assert state.tier.code == "diamond"  # protected during grace
    assert state.grace_until == first + timedelta(days=30)
    warning = Notification.objects.get(member=member, kind="tier.retention_warning")
    assert "16000" in warning.body

    # Running again (same night, or any night during grace) changes nothing.
    before, changes, notes = snapshot(), TierChange.objects.count(), Notification.objects.count()
    tiers_reevaluate(now=first)
    tiers_reevaluate(now=first + timedelta(days=10))
    assert (snapshot(), TierChange.objects.count(), Notification.objects.count()) == (before, changes, notes)

    after_grace = first + timedelta(days=31)
    counts = tiers_reevaluate(now=after_grace)
    state.refresh_from_db()
    assert counts["downgraded"] == 1 and counts["downgraded:diamond->gold"] == 1
    assert state.tier.code == "gold"  # one tier, although nothing qualifies any more
    assert state.grace_until is None
    assert state.evaluate_at == after_grace + relativedelta(months=12)
    change = TierChange.objects.filter(member=member).first()
    assert (change.from_tier.code, change.to_tier.code, change.source) == ("diamond", "gold", "reevaluation")
    assert OutboxEvent.objects.filter(type="tier.changed", data__to_tier="gold").count() == 1

    before, changes = snapshot(), TierChange.objects.count()
    counts = tiers_reevaluate(now=after_grace)
    assert (snapshot(), TierChange.objects.count()) == (before, changes)
    assert counts.get("evaluated", 0) == 0
    run = JobRun.objects.filter(name="tiers.reevaluate").first()
    assert run.status == "succeeded"


def test_growth_during_grace_lifts_the_warning_at_once():
    member = make_member()
    grow(member, 5000)
    due = MemberTier.objects.get(member=member).evaluate_at
    as_of = due + timedelta(days=1)
    tiers_reevaluate(now=as_of)
    assert MemberTier.objects.get(member=member).grace_until is not None
    grow(member, 4000, at=as_of + timedelta(days=2))
    state = MemberTier.objects.get(member=member)
    assert state.grace_until is None and state.tier.code == "gold"
    assert state.evaluate_at > as_of + relativedelta(months=11)
    tiers_reevaluate(now=as_of + timedelta(days=40))
    assert MemberTier.objects.get(member=member).tier.code == "gold"


def test_entry_tier_never_reevaluated():
    member = make_member()
    grow(member, 10)
    assert MemberTier.objects.get(member=member).evaluate_at is None


def test_crashed_run_resumes_without_applying_a_chunk_twice():
    members = [make_member() for _ in range(5)]
    for m in members:
        grow(m, 5000)
    as_of = MemberTier.objects.order_by("evaluate_at").last().evaluate_at + timedelta(days=1)
    real_apply = reevaluation_module._apply
    calls = {"n": 0}

    def failing_apply(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real_apply(*args, **kwargs)

    with mock.patch.object(reevaluation_module, "_apply", failing_apply), pytest.raises(RuntimeError):
        tiers_reevaluate(now=as_of, chunk_size=2)
    run = ReevaluationRun.objects.get()
    assert run.status == "running" and run.last_member_pk == members[1].pk
    assert MemberTier.objects.filter(grace_until__isnull=False).count() == 2
    assert JobRun.objects.filter(name="tiers.reevaluate").first().status == "failed"

    counts = tiers_reevaluate(now=as_of + timedelta(hours=1), chunk_size=2)
    assert counts["resumed_runs"] == 1
    assert MemberTier.objects.filter(grace_until__isnull=False).count() == 5
    # The resumed run used its own as_of: every grace ends 30 days after the first start.
    assert set(MemberTier.objects.values_list("grace_until", flat=True)) == {as_of + timedelta(days=30)}
    assert Notification.objects.filter(kind="tier.retention_warning").count() == 5
    assert ReevaluationRun.objects.filter(status="running").count() == 0
    assert ReevaluationRun.objects.get(pk=run.pk).counts["grace_started"] == 5


def test_per_member_rule_matches_job():
    a, b = make_member(), make_member()
    grow(a, 5000)
    grow(b, 1500)
    as_of = MemberTier.objects.get(member=a).evaluate_at + timedelta(days=1)
    decision = member_tier_reevaluate(member=a, as_of=as_of)
    assert decision.outcome == "grace_started"
    assert member_tier_reevaluate(member=a, as_of=as_of) is None  # not due again until grace ends
