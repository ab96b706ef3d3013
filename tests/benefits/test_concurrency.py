"""Usage limits under real concurrency (PostgreSQL): threads, each on its own connection."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from benefits.models import Coupon, CouponTemplate
from benefits.services import coupon_issue, coupon_redeem
from core.errors import ApplicationError

from .factories import issue, make_member, make_template

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(funcs):
    """Start every func at the same moment; return Counter of "ok" / error codes."""
    barrier = threading.Barrier(len(funcs))
    results: list[str] = []
    lock = threading.Lock()

    def runner(func):
        try:
            barrier.wait(timeout=30)
            func()
            outcome = "ok"
        except ApplicationError as exc:
            outcome = exc.code
        except Exception as exc:  # noqa: BLE001
            outcome = f"error:{type(exc).__name__}:{exc}"
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=runner, args=(f,)) for f in funcs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return Counter(results)


def test_50_concurrent_issues_against_a_stock_of_10_give_exactly_10():
    template = make_template(total_quantity=10, per_member_limit=None)
    members = [make_member() for _ in range(50)]
    results = run_concurrently(
        [lambda m=m: coupon_issue(template=template, member=m, source="api") for m in members]
    )
    assert results == Counter({"ok": 10, "out_of_stock": 40})
    template = CouponTemplate.objects.get(pk=template.pk)
    assert template.issued_count == 10
    assert Coupon.objects.filter(template=template).count() == 10


def test_per_member_limit_holds_under_concurrency():
    template = make_template(total_quantity=100, per_member_limit=3)
    member = make_member()
    results = run_concurrently(
        [lambda: coupon_issue(template=template, member=member, source="api") for _ in range(20)]
    )
    assert results == Counter({"ok": 3, "limit_reached": 17})
    assert Coupon.objects.filter(template=template, member=member).count() == 3
    assert CouponTemplate.objects.get(pk=template.pk).issued_count == 3


def test_same_source_key_concurrently_issues_once():
    template = make_template(total_quantity=100, per_member_limit=None)
    member = make_member()
    results = run_concurrently(
        [
            lambda: coupon_issue(template=template, member=member, source="campaign", source_key="welcome")
            for _ in range(20)
        ]
    )
    assert results == Counter({"ok": 20})
    assert Coupon.objects.filter(template=template, member=member).count() == 1


def test_50_concurrent_redemptions_of_one_coupon_on_different_orders_succeed_once():
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    results = run_concurrently(
        [
            lambda n=n: coupon_redeem(code=coupon.code, order_id=f"order-{n}", amount=Decimal("50.00"))
            for n in range(50)
        ]
    )
    assert results == Counter({"ok": 1, "coupon_already_redeemed": 49})
    coupon.refresh_from_db()
    assert coupon.status == "redeemed" and coupon.events.filter(kind="redeemed").count() == 1


def test_redeeming_10_coupons_of_a_template_limited_to_10_among_50_racers():
    """50 members race for a template of 10 and each redeems what they got: 10 orders."""
    template = make_template(total_quantity=10, per_member_limit=None, threshold=Decimal("0"))
    members = [make_member() for _ in range(50)]

    def grab_and_redeem(m, n):
        coupon, _ = coupon_issue(template=template, member=m, source="api")
        coupon_redeem(code=coupon.code, order_id=f"o{n}", amount=Decimal("20.00"), member=m)

    results = run_concurrently([lambda m=m, n=n: grab_and_redeem(m, n) for n, m in enumerate(members)])
    assert results == Counter({"ok": 10, "out_of_stock": 40})
    assert Coupon.objects.filter(template=template, status="redeemed").count() == 10
