"""The partner API of the tier engine, end to end through the client."""

from __future__ import annotations

import pytest

from tiers.models import Subscription

from .factories import grow, make_member

pytestmark = pytest.mark.django_db


def test_tier_catalogue_for_any_key(make_api_client):
    client = make_api_client(scopes=["events:write"])
    response = client.get("/api/v1/tiers")
    assert response.status_code == 200
    body = response.json()
    assert [t["code"] for t in body["results"]] == ["regular", "silver", "gold", "diamond"]
    gold = body["results"][2]
    assert gold["growth_threshold"] == 5000
    assert gold["points_multiplier"] == "1.50" and gold["discount_rate"] == "0.90"
    assert "free_shipping" in gold["benefit_codes"]
    assert gold["retention"] == {"growth": 4000, "spend": None}
    assert {p["code"] for p in body["paid_plans"]} == {"plus_year", "plus_month"}
    assert client.get("/api/v1/tiers", HTTP_AUTHORIZATION="").status_code in (401, 200)


def test_tier_catalogue_needs_a_key(client):
    response = client.get("/api/v1/tiers")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_member_tier_shape(make_api_client):
    client = make_api_client(scopes=["members:read"])
    member = make_member()
    grow(member, 1200)
    response = client.get(f"/api/v1/members/{member.member_id}/tier")
    assert response.status_code == 200
    body = response.json()
    assert body["tier"]["code"] == "silver" and body["earned_tier"] == "silver"
    assert body["growth_value"] == 1200
    assert body["next_tier"]["code"] == "gold"
    assert body["needed_for_next"] == 3800
    assert body["retention"]["required"] == 800
    assert body["retention"]["achieved"] == 1200
    assert body["retention"]["evaluate_at"] is not None
    assert body["paid_plan"] is None
    assert body["tier"]["discount_rate"] == "0.95"


def test_member_tier_scope_and_unknown_member(make_api_client):
    member = make_member()
    no_scope = make_api_client(scopes=["points:read"])
    response = no_scope.get(f"/api/v1/members/{member.member_id}/tier")
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    client = make_api_client(scopes=["members:read"])
    response = client.get("/api/v1/members/m_nobody/tier")
    assert response.status_code == 404 and response.json()["code"] == "member_not_found"


def test_subscription_create_replay_and_tier(make_api_client):
    client = make_api_client(scopes=["members:read", "members:write"])
    member = make_member()
    url = f"/api/v1/members/{member.member_id}/subscriptions"
    payload = {"plan": "plus_year", "payment_reference": "shop-pay-1"}
    first = client.post(url, payload, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["plan"] == "plus_year" and body["tier"] == "gold" and body["status"] == "active"
    assert body["price"] == "88.00" and body["currency"] == "CNY"
    again = client.post(url, payload, format="json")
    assert again.status_code == 200 and again.json() == body
    assert Subscription.objects.count() == 1
    tier = client.get(f"/api/v1/members/{member.member_id}/tier").json()
    assert tier["tier"]["code"] == "gold" and tier["earned_tier"] == "regular"
    assert tier["paid_plan"]["plan"] == "plus_year"


def test_subscription_stacks_and_idempotency_key(make_api_client):
    client = make_api_client(scopes=["members:write"])
    member = make_member()
    url = f"/api/v1/members/{member.member_id}/subscriptions"
    first = client.post(url, {"plan": "plus_month", "payment_reference": "a"}, format="json").json()
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"}
    second = client.post(url, {"plan": "plus_month", "payment_reference": "b"}, format="json", **headers)
    assert second.status_code == 201
    assert second.json()["starts_at"] == first["ends_at"]
    replay = client.post(url, {"plan": "plus_month", "payment_reference": "b"}, format="json", **headers)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    reused = client.post(url, {"plan": "plus_month", "payment_reference": "c"}, format="json", **headers)
    assert reused.status_code == 409


def test_subscription_validation_changes_nothing(make_api_client):
    client = make_api_client(scopes=["members:write"])
    member = make_member()
    url = f"/api/v1/members/{member.member_id}/subscriptions"
    missing = client.post(url, {"plan": "plus_year"}, format="json")
    assert missing.status_code == 400 and "payment_reference" in missing.json()["errors"]
    unknown = client.post(url, {"plan": "gold_forever", "payment_reference": "z"}, format="json")
    assert unknown.status_code == 400 and "plan" in unknown.json()["errors"]
    other = make_member()
    client.post(url, {"plan": "plus_year", "payment_reference": "dup"}, format="json")
    conflict = client.post(
        f"/api/v1/members/{other.member_id}/subscriptions",
        {"plan": "plus_year", "payment_reference": "dup"},
        format="json",
    )
    assert conflict.status_code == 409 and conflict.json()["code"] == "payment_reference_reused"
    assert Subscription.objects.count() == 1
    read_only = make_api_client(scopes=["members:read"])
    assert (
        read_only.post(url, {"plan": "plus_year", "payment_reference": "q"}, format="json").status_code == 403
    )
