"""Concurrency on real PostgreSQL: threads with their own connections race for one account."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import ApplicationError
from core.models import Partner
from points.models import Order, PointsEntry, RewardRedemption
from points.selectors import points_balance
from points.services import (
    order_record,
    points_hold_create,
    points_reconcile,
    reward_create,
    reward_redeem,
)

from .factories import give_points, make_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(func, n=THREADS):
    """Run func(i) in n threads released at once; returns (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [], []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            value = func(i)
            with lock:
                results.append(value)
        except ApplicationError as exc:
            with lock:
                errors.append(exc.code)
        except Exception as exc:  # noqa: BLE001
            with lock:
                errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def test_concurrent_holds_never_overspend():
    member = make_member()
    give_points(member, 1000)
    results, errors = _race(lambda i: points_hold_create(member=member, points=300, reference=f"o{i}"))
    assert len(results) == 3  # 3 × 300 ≤ 1000 < 4 × 300
    assert errors.count("insufficient_points") == THREADS - 3, errors
    assert points_balance(member=member) == {"available": 100, "pending": 0, "held": 900, "debt": 0}
    assert points_reconcile().drift_count == 0


def test_concurrent_redemptions_respect_balance_stock_and_limit():
    members = [make_member() for _ in range(2)]
    for m in members:
        give_points(m, 1000)
    reward = reward_create(name="限量公仔", kind="goods", points_price=100, stock=5, per_member_limit=3)
    results, errors = _race(lambda i: reward_redeem(member=members[i % 2], reward=reward))
    assert len(results) == 5, errors
    assert RewardRedemption.objects.filter(reward=reward).count() == 5
    reward.refresh_from_db()
    assert reward.stock == 0
    for m in members:
        assert RewardRedemption.objects.filter(account__member=m).count() <= 3
    spent = sum(1000 - points_balance(member=m)["available"] for m in members)
    assert spent == 500
    assert points_reconcile().drift_count == 0


def test_concurrent_redemptions_one_account_never_overspend():
    member = make_member()
    give_points(member, 350)
    reward = reward_create(name="券", kind="goods", points_price=100)
    results, errors = _race(lambda i: reward_redeem(member=member, reward=reward))
    assert len(results) == 3
    assert set(errors) == {"insufficient_points"}
    assert points_balance(member=member)["available"] == 50


def test_concurrent_duplicate_order_posts_count_once():
    member = make_member()
    shop = Partner.objects.get_or_create(name="shop")[0]
    paid_at = timezone.now()

    def post(i):
        return order_record(
            partner=shop, order_id="DUP-1", member=member, amount=Decimal("88.00"), paid_at=paid_at
        ).created

    results, errors = _race(post)
    assert not errors, errors
    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert Order.objects.filter(order_id="DUP-1").count() == 1
    assert PointsEntry.objects.filter(kind="earn", source_type="order").count() == 1
    assert points_balance(member=member)["pending"] == 88
    assert points_reconcile().drift_count == 0
