from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from benefits.models import Coupon
from core.models import Partner

from .factories import issue, make_member, make_template

pytestmark = pytest.mark.django_db


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body, format="json", **headers)


def test_coupon_templates_lists_active_templates_this_partner_may_issue(api_client):
    mine = make_template(code="shop-only", partner=Partner.objects.get(name="shop"))
    everyone = make_template(code="all")
    make_template(code="off", is_active=False)
    make_template(code="not-api", api_issuable=False)
    make_template(code="other", partner=Partner.objects.create(name="pos"))
    make_template(code="ended", validity="absolute", valid_until=timezone.now() - timedelta(seconds=1))
    response = api_client.get("/api/v1/coupon-templates")
    assert response.status_code == 200
    codes = {t["code"] for t in response.json()["results"]}
    assert codes == {mine.code, everyone.code}
    row = next(t for t in response.json()["results"] if t["code"] == "all")
    assert row["id"].startswith("ct_") and row["threshold"] == "100.00" and row["amount"] == "10.00"
    assert row["scope"]["categories"] == [] and row["stack_group"] == "discount"


def test_issue_by_api_requires_idempotency_key_and_replays(api_client):
    template = make_template(total_quantity=5)
    member = make_member()
    url = f"/api/v1/members/{member.member_id}/coupons"
    response = post(api_client, url, {"template": template.public_id})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_required"

    first = post(api_client, url, {"template": template.public_id}, key="k1")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert set(body) >= {"code", "template", "status", "valid_from", "valid_until"}
    assert body["template"] == template.public_id and body["status"] == "available"
    again = post(api_client, url, {"template": template.public_id}, key="k1")
    assert again.status_code == 201 and again.json()["code"] == body["code"]
    assert again["Idempotent-Replayed"] == "true"
    assert Coupon.objects.filter(member=member).count() == 1
    # by code too, with a new key: a second coupon
    assert post(api_client, url, {"template": template.code}, key="k2").status_code == 201


def test_issue_errors_are_problem_json_with_fields(api_client):
    member = make_member()
    url = f"/api/v1/members/{member.member_id}/coupons"
    response = post(api_client, url, {}, key="a")
    assert response.status_code == 400 and response.json()["errors"]["template"]
    response = post(api_client, url, {"template": "nope"}, key="b")
    assert response.status_code == 400 and response.json()["errors"]["template"]
    response = post(api_client, "/api/v1/members/m_nobody/coupons", {"template": "nope"}, key="c")
    assert response.status_code == 404 and response.json()["code"] == "member_not_found"
    template = make_template(total_quantity=1)
    assert post(api_client, url, {"template": template.code}, key="d").status_code == 201
    response = post(
        api_client, f"/api/v1/members/{make_member().member_id}/coupons", {"template": template.code}, key="e"
    )
    assert response.status_code == 409 and response.json()["code"] == "out_of_stock"


def test_scopes_are_enforced(make_api_client):
    reader = make_api_client(scopes=["coupons:read"])
    member = make_member()
    template = make_template()
    response = post(
        reader, f"/api/v1/members/{member.member_id}/coupons", {"template": template.code}, key="x"
    )
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    assert reader.get(f"/api/v1/members/{member.member_id}/coupons").status_code == 200
    nobody = make_api_client(scopes=["members:read"])
    assert nobody.get(f"/api/v1/members/{member.member_id}/coupons").status_code == 403


def test_wallet_filters_by_status_and_paginates(api_client, django_assert_max_num_queries):
    member = make_member()
    template = make_template(threshold=Decimal("0"), per_member_limit=None)
    coupons = [issue(template, member) for _ in range(3)]
    from benefits.services import coupon_redeem

    coupon_redeem(code=coupons[0].code, order_id="o1", amount=Decimal("20.00"))
    Coupon.objects.filter(pk=coupons[1].pk).update(
        valid_from=timezone.now() - timedelta(days=2), valid_until=timezone.now() - timedelta(seconds=1)
    )
    issue(template, make_member())  # someone else's
    url = f"/api/v1/members/{member.member_id}/coupons"
    with django_assert_max_num_queries(8):
        everything = api_client.get(url).json()
    assert len(everything["results"]) == 3 and everything["next"] is None
    available = api_client.get(url + "?status=available").json()["results"]
    assert [c["code"] for c in available] == [coupons[2].code]
    expired = api_client.get(url + "?status=expired").json()["results"]
    assert [(c["code"], c["status"]) for c in expired] == [(coupons[1].code, "expired")]
    redeemed = api_client.get(url + "?status=redeemed").json()["results"]
    assert redeemed[0]["order_id"] == "o1" and redeemed[0]["discount_amount"] == "10.00"
    assert redeemed[0]["status"] == "redeemed" and available and available[0]["status"] == "available"
    bad = api_client.get(url + "?status=nope")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    page = api_client.get(url + "?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]


def test_redeem_and_release_over_the_api(api_client):
    coupon = issue(make_template(threshold=Decimal("100.00"), amount=Decimal("15.00")), make_member())
    url = f"/api/v1/coupons/{coupon.code}"
    response = post(api_client, url + "/redeem", {"order_id": "A1", "amount": "99.99"})
    assert response.status_code == 409 and response.json()["code"] == "coupon_not_applicable"
    assert response.json()["reason"] == "below_threshold"
    ok = post(api_client, url + "/redeem", {"order_id": "A1", "amount": "100.00"})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["discount"] == "15.00" and ok.json()["status"] == "redeemed"
    replay = post(api_client, url + "/redeem", {"order_id": "A1", "amount": "100.00"})
    assert replay.status_code == 200 and replay.json() == ok.json()
    other = post(api_client, url + "/redeem", {"order_id": "A2", "amount": "100.00"})
    assert other.status_code == 409 and other.json()["code"] == "coupon_already_redeemed"
    released = post(api_client, url + "/release", {"order_id": "A1"})
    assert released.status_code == 200 and released.json()["status"] == "available"
    assert post(api_client, url + "/release", {"order_id": "A1"}).status_code == 200
    assert post(api_client, url + "/release", {"order_id": "A9"}).status_code == 409


def test_redeem_validation_errors_are_field_level(api_client):
    coupon = issue(make_template(), make_member())
    response = post(api_client, f"/api/v1/coupons/{coupon.code}/redeem", {"amount": "1.234"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "order_id" in errors and "amount" in errors
    response = post(api_client, "/api/v1/coupons/NOPE/redeem", {"order_id": "x", "amount": "1.00"})
    assert response.status_code == 404 and response.json()["code"] == "coupon_not_found"


def test_redeem_with_member_checks_ownership(api_client):
    coupon = issue(make_template(threshold=Decimal("0")), make_member())
    other = make_member()
    response = post(
        api_client,
        f"/api/v1/coupons/{coupon.code}/redeem",
        {"order_id": "x", "amount": "10.00", "member": other.member_id},
    )
    assert response.status_code == 409 and response.json()["code"] == "coupon_not_applicable"


def test_coupon_lookup(api_client):
    coupon = issue(make_template(), make_member())
    response = api_client.get(f"/api/v1/coupons/{coupon.code.lower()}")
    assert response.status_code == 200 and response.json()["code"] == coupon.code
