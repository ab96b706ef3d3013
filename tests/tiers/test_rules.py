"""The pure qualification and re-evaluation rules (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tiers import rules
from tiers.models import Tier

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def tier(code, rank, threshold, **extra):
    return Tier(
        code=code,
        rank=rank,
        name=code,
        name_en=code,
        growth_threshold=threshold,
        is_default=rank == 0,
        **extra,
    )


REGULAR = tier("regular", 0, 0)
SILVER = tier("silver", 1, 1000, retention_growth=800, grace_days=30)
GOLD = tier("gold", 2, 5000, retention_growth=4000, grace_days=0)
TIERS = [REGULAR, SILVER, GOLD]


def sums(growth=0, spend="0", orders=0, months=12):
    return {months: rules.WindowSums(growth=growth, spend=Decimal(spend), orders=orders)}


def test_qualification_modes():
    by_spend = tier(
        "s",
        1,
        1000,
        qualification_mode="spend_and_orders",
        qualifying_spend=Decimal("2000"),
        qualifying_orders=5,
    )
    assert not rules.tier_qualifies(by_spend, sums(growth=9999, spend="1999.99", orders=9))
    assert not rules.tier_qualifies(by_spend, sums(spend="2000", orders=4))
    assert rules.tier_qualifies(by_spend, sums(spend="2000.00", orders=5))
    either = tier("e", 1, 1000, qualification_mode="any", qualifying_spend=Decimal("2000"))
    assert rules.tier_qualifies(either, sums(growth=1000))
    assert rules.tier_qualifies(either, sums(spend="2000"))
    assert not rules.tier_qualifies(either, sums(growth=999, spend="1999"))


def test_windows_per_tier():
    long_window = tier("l", 1, 1000, window_months=24)
    assert rules.tier_qualifies(
        long_window, {12: rules.WindowSums(growth=10), 24: rules.WindowSums(growth=1000)}
    )
    assert rules.windows_of([REGULAR, long_window]) == [12, 24]
    assert rules.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)


def test_retention_and_requirement():
    assert rules.tier_retained(SILVER, sums(growth=800))
    assert not rules.tier_retained(SILVER, sums(growth=799))
    strict = tier("x", 1, 1000)
    assert not rules.tier_retained(strict, sums(growth=999)) and rules.tier_retained(
        strict, sums(growth=1000)
    )
    assert rules.retention_requirement(strict) == (1000, None)
    assert rules.retention_requirement(SILVER) == (800, None)
    assert rules.retention_requirement(REGULAR) == (0, None)


def test_decisions():
    d = rules.reevaluation_decide(
        tiers=TIERS, current=SILVER, grace_until=None, sums=sums(growth=5000), as_of=NOW
    )
    assert d.outcome == "upgraded" and d.tier is GOLD
    d = rules.reevaluation_decide(
        tiers=TIERS, current=SILVER, grace_until=None, sums=sums(growth=800), as_of=NOW
    )
    assert d.outcome == "retained" and d.evaluate_at == datetime(2027, 11, 23, 12, 0, tzinfo=UTC)
    d = rules.reevaluation_decide(tiers=TIERS, current=SILVER, grace_until=None, sums=sums(), as_of=NOW)
    assert d.outcome == "grace_started" and d.grace_until == NOW + timedelta(days=30) == d.evaluate_at
    d = rules.reevaluation_decide(
        tiers=TIERS, current=SILVER, grace_until=NOW + timedelta(days=1), sums=sums(), as_of=NOW
    )
    assert d.outcome == "in_grace"
    d = rules.reevaluation_decide(tiers=TIERS, current=SILVER, grace_until=NOW, sums=sums(), as_of=NOW)
    assert d.outcome == "downgraded" and d.tier is REGULAR and d.evaluate_at is None
    # No grace days: straight down, still one tier only.
    d = rules.reevaluation_decide(tiers=TIERS, current=GOLD, grace_until=None, sums=sums(), as_of=NOW)
    assert d.outcome == "downgraded" and d.tier is SILVER
