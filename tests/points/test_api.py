"""Partner API end to end: pay, refund, complete, hold, capture, events, import, errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from points.models import Order, PointsEntry
from points.selectors import points_balance
from points.services import points_reconcile

from .factories import give_points, make_member

pytestmark = pytest.mark.django_db


def _order(who, order_id="SO-1", amount="199.00", **extra):
    body = {
        "order_id": order_id,
        "member": who.member_id,
        "amount": amount,
        "currency": "CNY",
        "items": [{"sku": "SKU-1", "category": "apparel", "quantity": 1, "unit_price": amount}],
        "channel": "app",
        "paid_at": timezone.now().isoformat(),
    }
    body.update(extra)
    return body


def test_order_lifecycle_pay_refund_complete(api_client):
    member = make_member()
    r = api_client.post("/api/v1/orders", _order(member), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["points_pending"] == 199
    assert r.json()["growth_value"] == 199
    replay = api_client.post("/api/v1/orders", _order(member), format="json")
    assert replay.status_code == 200
    assert replay.json() == r.json()
    assert Order.objects.count() == 1
    assert points_balance(member=member) == {"available": 0, "pending": 199, "held": 0, "debt": 0}

    r = api_client.post(
        "/api/v1/orders/SO-1/refunds", {"refund_id": "RF-1", "amount": "99.50"}, format="json"
    )
    assert r.status_code == 201, r.content
    assert r.json()["points_reversed"] == 99  # floor(199 * 99.50 / 199)
    again = api_client.post(
        "/api/v1/orders/SO-1/refunds", {"refund_id": "RF-1", "amount": "99.50"}, format="json"
    )
    assert again.status_code == 200 and again.json()["points_reversed"] == 99
    assert points_balance(member=member)["pending"] == 100

    too_much = api_client.post(
        "/api/v1/orders/SO-1/refunds", {"refund_id": "RF-2", "amount": "100.00"}, format="json"
    )
    assert too_much.status_code == 400
    assert too_much["Content-Type"].startswith("application/problem+json")
    assert "amount" in too_much.json()["errors"]

    r = api_client.post("/api/v1/orders/SO-1/complete", {}, format="json")
    assert r.status_code == 200, r.content
    assert points_balance(member=member) == {"available": 100, "pending": 0, "held": 0, "debt": 0}
    # The rest of the refund after confirmation comes out of available.
    r = api_client.post(
        "/api/v1/orders/SO-1/refunds", {"refund_id": "RF-3", "amount": "99.50"}, format="json"
    )
    assert r.status_code == 201
    assert r.json()["points_reversed"] == 100
    assert points_balance(member=member)["available"] == 0
    assert points_reconcile().drift_count == 0


def test_order_validation_errors_are_per_field(api_client):
    member = make_member()
    bad = _order(member, amount="-1", currency="cny", paid_at="yesterday")
    bad["items"] = [{"sku": "", "quantity": 0, "unit_price": "1"}]
    r = api_client.post("/api/v1/orders", bad, format="json")
    assert r.status_code == 400
    errors = r.json()["errors"]
    for field in ("amount", "currency", "paid_at", "items.0.sku", "items.0.quantity"):
        assert field in errors, errors
    assert Order.objects.count() == 0
    r = api_client.post("/api/v1/orders", _order(member, member="m_nobody"), format="json")
    assert r.status_code == 404 and r.json()["code"] == "member_not_found"


def test_refund_unknown_order_is_404(api_client):
    r = api_client.post("/api/v1/orders/NOPE/refunds", {"refund_id": "x", "amount": "1.00"}, format="json")
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"


def test_hold_capture_release_api(api_client):
    member = make_member()
    give_points(member, 1000)
    url = f"/api/v1/members/{member.member_id}/points/holds"
    r = api_client.post(url, {"points": 300, "reference": "SO-9"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_required"
    r = api_client.post(url, {"points": 300, "reference": "SO-9"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 201, r.content
    hold_id = r.json()["hold_id"]
    replay = api_client.post(
        url, {"points": 300, "reference": "SO-9"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert points_balance(member=member) == {"available": 700, "pending": 0, "held": 300, "debt": 0}
    r = api_client.post(url, {"points": 5000}, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert r.status_code == 409 and r.json()["code"] == "insufficient_points"

    r = api_client.post(f"/api/v1/points/holds/{hold_id}/capture", {"points": 200}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "captured" and r.json()["captured_points"] == 200
    assert points_balance(member=member) == {"available": 800, "pending": 0, "held": 0, "debt": 0}
    r = api_client.post(f"/api/v1/points/holds/{hold_id}/release", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "hold_not_active"

    r = api_client.post(url, {"points": 100}, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    hold2 = r.json()["hold_id"]
    r = api_client.post(f"/api/v1/points/holds/{hold2}/release", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert points_balance(member=member)["available"] == 800

    r = api_client.get(f"/api/v1/members/{member.member_id}/points")
    assert r.status_code == 200
    assert r.json()["available"] == 800 and r.json()["expiring"][0]["points"] == 800
    r = api_client.get(f"/api/v1/members/{member.member_id}/points/transactions?page_size=2")
    assert r.status_code == 200
    body = r.json()
    assert len(body["results"]) == 2 and body["next"]
    assert body["results"][0]["kind"] == "release"
    assert points_reconcile().drift_count == 0


def test_scopes_are_enforced(make_api_client):
    client = make_api_client(scopes=["points:read"])
    member = make_member()
    r = client.post("/api/v1/orders", _order(member), format="json")
    assert r.status_code == 403 and r.json()["code"] == "missing_scope"
    r = client.post("/api/v1/events", [], format="json")
    assert r.status_code == 403


def test_adjustment_api_small_posts_large_waits(api_client):
    member = make_member()
    url = f"/api/v1/members/{member.member_id}/points/adjustments"
    r = api_client.post(url, {"points": 50, "reason": "goodwill"}, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    assert r.status_code == 201 and r.json()["status"] == "posted"
    r = api_client.post(
        url, {"points": 5000, "reason": "migration"}, format="json", HTTP_IDEMPOTENCY_KEY="a2"
    )
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert points_balance(member=member)["available"] == 50
    r = api_client.post(url, {"points": 0, "reason": ""}, format="json", HTTP_IDEMPOTENCY_KEY="a3")
    assert r.status_code == 400 and {"points", "reason"} <= set(r.json()["errors"])


def test_events_batch_awards_and_is_idempotent(api_client):
    member = make_member()
    now = timezone.now().isoformat()
    batch = [
        {
            "event_id": "e1",
            "member": member.member_id,
            "type": "review",
            "occurred_at": now,
            "properties": {"sku": "A"},
        },
        {"event_id": "e2", "member": member.member_id, "type": "page_view", "occurred_at": now},
        {"event_id": "e3", "member": "m_unknown", "type": "review", "occurred_at": now},
        {"event_id": "e4", "member": member.member_id, "type": "BAD TYPE", "occurred_at": now},
        {"event_id": "e5", "member": member.member_id, "type": "check_in", "occurred_at": now},
        {"event_id": "e6", "member": member.member_id, "type": "check_in", "occurred_at": now},
    ]
    r = api_client.post("/api/v1/events", batch, format="json")
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == [
        "accepted",
        "accepted",
        "rejected",
        "rejected",
        "accepted",
        "accepted",
    ]
    assert results[0]["points"] == 20
    assert results[4]["points"] == 5 and results[5]["points"] == 0  # check-in capped once a day
    assert "type" in results[3]["errors"]
    again = api_client.post("/api/v1/events", {"events": batch[:2]}, format="json")
    assert [x["status"] for x in again.json()["results"]] == ["duplicate", "duplicate"]
    assert points_balance(member=member)["available"] == 25


def test_orders_import(api_client):
    member = make_member()
    paid = (timezone.now() - timedelta(days=30)).isoformat()
    orders = [_order(member, order_id=f"H-{i}", amount="10.00", paid_at=paid) for i in range(5)]
    orders.append(_order(member, order_id="H-bad", amount="x"))
    orders.append(_order(member, order_id="H-nomember", member="m_nobody"))
    r = api_client.post("/api/v1/orders:import", {"orders": orders}, format="json")
    assert r.status_code == 200, r.content
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses == ["created"] * 5 + ["rejected", "rejected"]
    # Outside the return window: confirmed at once.
    assert points_balance(member=member) == {"available": 50, "pending": 0, "held": 0, "debt": 0}
    r = api_client.post("/api/v1/orders:import", {"orders": orders[:2]}, format="json")
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
    assert PointsEntry.objects.filter(kind="earn", source_type="order").count() == 5


def test_rewards_list_and_redeem(api_client):
    from points.services import reward_create

    member = make_member()
    give_points(member, 500)
    reward = reward_create(name="保温杯", kind="goods", points_price=200, stock=1, per_member_limit=1)
    r = api_client.get("/api/v1/rewards")
    assert r.status_code == 200 and r.json()["results"][0]["id"] == reward.code
    url = f"/api/v1/members/{member.member_id}/rewards/redemptions"
    r = api_client.post(url, {"reward": reward.code}, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    assert r.status_code == 201, r.content
    r = api_client.post(url, {"reward": reward.code}, format="json", HTTP_IDEMPOTENCY_KEY="r2")
    assert r.status_code == 409 and r.json()["code"] in ("out_of_stock", "limit_reached")
    assert points_balance(member=member)["available"] == 300


def test_orders_import_bulk_repays_debt_keeps_recent_pending_and_reconciles(api_client):
    from points.services import order_complete, order_record, order_refund, reward_create, reward_redeem

    member = make_member()
    other = make_member()
    shop = api_client.partner
    order = order_record(
        partner=shop, order_id="LIVE-1", member=member, amount=Decimal("100.00"), paid_at=timezone.now()
    ).order
    order_complete(order=order)
    reward_redeem(member=member, reward=reward_create(name="G", kind="goods", points_price=100))
    order_refund(partner=shop, order_id="LIVE-1", refund_id="R", amount=Decimal("100.00"))
    assert points_balance(member=member)["debt"] == 100
    old = (timezone.now() - timedelta(days=60)).isoformat()
    orders = [
        _order(member, order_id="OLD-1", amount="150.00", paid_at=old),
        _order(member, order_id="NEW-1", amount="20.00"),
        _order(other, order_id="OLD-2", amount="30.00", paid_at=old),
    ]
    r = api_client.post("/api/v1/orders:import", {"orders": orders}, format="json")
    assert [x["status"] for x in r.json()["results"]] == ["created"] * 3
    assert points_balance(member=member) == {"available": 50, "pending": 20, "held": 0, "debt": 0}
    assert points_balance(member=other)["available"] == 30
    assert points_reconcile().drift_count == 0
    # Refund of an imported order reverses its recorded awards.
    refund, _ = order_refund(partner=shop, order_id="OLD-2", refund_id="R2", amount=Decimal("30.00"))
    assert refund.points_reversed == 30
    assert points_reconcile().drift_count == 0


def test_orders_import_with_a_frozen_member_goes_order_by_order(api_client):
    active, frozen = make_member(), make_member()
    frozen.status = "frozen"
    frozen.save(update_fields=["status"])
    old = (timezone.now() - timedelta(days=60)).isoformat()
    orders = [_order(active, order_id="F-1", paid_at=old), _order(frozen, order_id="F-2", paid_at=old)]
    r = api_client.post("/api/v1/orders:import", {"orders": orders}, format="json")
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["created", "rejected"]
    assert results[1]["code"] == "member_frozen"
    assert points_balance(member=active)["available"] == 199


def test_read_apis_have_bounded_queries(api_client, django_assert_max_num_queries):
    member = make_member()
    for i in range(30):
        give_points(member, 5 + i)
    with django_assert_max_num_queries(8):
        r = api_client.get(f"/api/v1/members/{member.member_id}/points")
    assert r.status_code == 200
    with django_assert_max_num_queries(8):
        r = api_client.get(f"/api/v1/members/{member.member_id}/points/transactions")
    assert r.status_code == 200 and len(r.json()["results"]) == 30
    with django_assert_max_num_queries(8):
        assert api_client.get("/api/v1/rewards").status_code == 200
