"""benefits with the real apps below it: tiers (member price, benefits), points (balance,
settings, points mall)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from benefits.models import Coupon, CouponBulkIssue, TierCouponEntitlement
from benefits.services import coupon_bulk_issue_create, coupon_bulk_issue_run, tier_coupons_issue
from core.models import JobRun
from tiers.models import Tier

from .factories import issue, make_member, make_template

pytestmark = pytest.mark.django_db


def set_tier(member, code):
    from tiers.services import tier_override_set

    tier_override_set(member=member, tier=Tier.objects.get(code=code), reason="test")


def give_points(member, points):
    from points.services import points_award

    points_award(member=member, points=points, source_type="test", source_id=f"{member.pk}-{points}")


def test_member_benefits_api_lists_tier_benefits(api_client):
    member = make_member()
    set_tier(member, "gold")
    response = api_client.get(f"/api/v1/members/{member.member_id}/benefits")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tier"] == "gold" and body["discount_rate"] == "0.90" and body["free_shipping"] is True
    codes = [b["code"] for b in body["benefits"]]
    assert codes[0] == "member_discount"
    assert {"free_shipping", "birthday_gift", "member_only_products"} <= set(codes)
    assert all(b["source"] == "tier" for b in body["benefits"])
    assert all(b["name"] for b in body["benefits"])


def test_paid_plan_benefits_are_marked_as_such(api_client):
    from tiers.services import subscription_purchase

    member = make_member()
    subscription_purchase(member=member, plan="plus_month", payment_reference="pay-1")
    body = api_client.get(f"/api/v1/members/{member.member_id}/benefits").json()
    sources = {b["code"]: b["source"] for b in body["benefits"]}
    assert "paid_plan" in sources.values()


def test_checkout_quote_end_to_end(api_client):
    member = make_member()
    set_tier(member, "silver")  # 0.95, no free shipping
    give_points(member, 10000)
    a20 = issue(make_template(code="a20", threshold=Decimal("150.00"), amount=Decimal("20.00")), member)
    ship = issue(make_template(code="ship", kind="free_shipping", threshold=Decimal("0")), member)
    small = issue(make_template(code="a5", threshold=Decimal("0"), amount=Decimal("5.00")), member)
    shoes = issue(
        make_template(code="shoes", threshold=Decimal("0"), amount=Decimal("50.00"), categories=["shoes"]),
        member,
    )
    other = issue(make_template(code="x", threshold=Decimal("0")), make_member())
    body = {
        "member": member.member_id,
        "items": [
            {"sku": "BK-1", "category": "books", "quantity": 2, "unit_price": "39.90"},
            {"sku": "TOY-1", "category": "toys", "quantity": 1, "unit_price": "89.00"},
        ],
        "shipping_fee": "10.00",
        "points_to_use": 100000,
    }
    response = api_client.post("/api/v1/checkout/quote", body, format="json")
    assert response.status_code == 200, response.json()
    q = response.json()
    # list 79.80 + 89.00 = 168.80; member 75.81 + 84.55 = 160.36
    assert q["tier"] == "silver" and q["discount_rate"] == "0.95"
    assert [ln["member_total"] for ln in q["lines"]] == ["75.81", "84.55"]
    assert q["summary"]["subtotal"] == "168.80" and q["summary"]["member_subtotal"] == "160.36"
    assert sorted(c["code"] for c in q["coupons"]["applied"]) == sorted([a20.code, ship.code])
    reasons = {n["code"]: n["reason"] for n in q["coupons"]["not_applied"]}
    assert reasons == {small.code: "not_stackable", shoes.code: "out_of_scope"}
    assert q["summary"]["coupon_discount"] == "20.00" and q["shipping"]["payable"] == "0.00"
    # points: 50% of 140.36 = 70.18 -> 7018 points
    assert q["points"]["used"] == 7018 and q["points"]["deduction"] == "70.18" and q["points"]["capped"]
    assert q["summary"]["payable"] == "70.18"
    assert sum(Decimal(ln["total"]) for ln in q["lines"]) == Decimal(q["summary"]["goods_payable"])

    # only the given codes; another member's coupon is explained
    body2 = {**body, "coupon_codes": [small.code, other.code, "NOPE123456"], "points_to_use": 0}
    q2 = api_client.post("/api/v1/checkout/quote", body2, format="json").json()
    assert [c["code"] for c in q2["coupons"]["applied"]] == [small.code]
    reasons = {n["code"]: n["reason"] for n in q2["coupons"]["not_applied"]}
    assert reasons == {other.code: "not_yours", "NOPE123456": "not_found"}
    assert q2["shipping"]["payable"] == "10.00"


def test_gold_member_gets_free_shipping_and_tier_scoped_coupon(api_client):
    member = make_member()
    set_tier(member, "gold")
    gold_only = issue(
        make_template(
            code="gold", threshold=Decimal("0"), amount=Decimal("8.00"), tier_codes=["gold", "diamond"]
        ),
        member,
    )
    body = {
        "member": member.member_id,
        "items": [{"sku": "A", "category": "c", "quantity": 1, "unit_price": "100.00"}],
        "shipping_fee": "12.00",
    }
    q = api_client.post("/api/v1/checkout/quote", body, format="json").json()
    assert q["shipping"] == {
        "fee": "12.00",
        "discount": "12.00",
        "payable": "0.00",
        "reason": "tier_free_shipping",
    }
    assert [c["code"] for c in q["coupons"]["applied"]] == [gold_only.code]
    assert q["summary"]["payable"] == "82.00"  # 90.00 - 8.00

    silver = make_member()
    set_tier(silver, "silver")
    Coupon.objects.filter(pk=gold_only.pk).update(member=silver)
    q = api_client.post("/api/v1/checkout/quote", {**body, "member": silver.member_id}, format="json").json()
    assert q["coupons"]["not_applied"][0]["reason"] == "out_of_scope_tier"


def test_checkout_quote_validation_errors(api_client):
    member = make_member()
    response = api_client.post(
        "/api/v1/checkout/quote",
        {
            "member": member.member_id,
            "items": [{"sku": "A", "quantity": 0, "unit_price": "1.001"}],
            "points_to_use": -1,
        },
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "items.0.quantity" in errors and "items.0.unit_price" in errors and "points_to_use" in errors
    response = api_client.post(
        "/api/v1/checkout/quote", {"member": member.member_id, "items": []}, format="json"
    )
    assert response.status_code == 400 and any(k.startswith("items") for k in response.json()["errors"])


def test_points_mall_coupon_reward_issues_a_coupon():
    from points.services import reward_create, reward_redeem

    template = make_template(code="mall-10", threshold=Decimal("0"))
    reward = reward_create(name="10 yuan off", kind="coupon", points_price=500, coupon_template_ref="mall-10")
    member = make_member()
    give_points(member, 2000)
    redemption = reward_redeem(member=member, reward=reward, quantity=2)
    codes = redemption.fulfilment["coupon_codes"]
    assert len(codes) == 2
    coupons = Coupon.objects.filter(code__in=codes)
    assert {c.issued_by for c in coupons} == {"points"} and {c.template_id for c in coupons} == {template.pk}


def test_points_mall_reward_with_unknown_template_rolls_back():
    from core.errors import ApplicationError
    from points.selectors import points_balance
    from points.services import reward_create, reward_redeem

    reward = reward_create(name="broken", kind="coupon", points_price=500, coupon_template_ref="missing")
    member = make_member()
    give_points(member, 1000)
    with pytest.raises(ApplicationError):
        reward_redeem(member=member, reward=reward)
    assert points_balance(member=member)["available"] == 1000


def test_bulk_issue_filters_members_and_is_restartable():
    template = make_template(total_quantity=100, per_member_limit=1)
    app_members = [make_member(channel="app", region="上海") for _ in range(5)]
    make_member(channel="web", region="上海")
    frozen = make_member(channel="app", region="上海", status="frozen")
    gold = app_members[0]
    set_tier(gold, "gold")
    bulk = coupon_bulk_issue_create(
        template=template, filters={"channel": "app", "region": ["上海"]}, enqueue=False
    )
    done = coupon_bulk_issue_run(bulk_id=bulk.pk, chunk_size=2)
    assert done.state == "done" and done.counts["issued"] == 5
    assert set(Coupon.objects.filter(template=template).values_list("member_id", flat=True)) == {
        m.pk for m in app_members
    }
    assert not Coupon.objects.filter(member=frozen).exists()
    # run again from scratch: nothing new
    CouponBulkIssue.objects.filter(pk=bulk.pk).update(state="running", cursor=0)
    again = coupon_bulk_issue_run(bulk_id=bulk.pk)
    assert again.counts["existing"] == 5 and Coupon.objects.filter(template=template).count() == 5
    assert JobRun.objects.filter(name="benefits.bulk_issue", status="succeeded").exists()

    tiered = make_template(code="gold-bulk", per_member_limit=1)
    bulk = coupon_bulk_issue_create(template=tiered, filters={"tier_codes": ["gold"]}, enqueue=False)
    assert coupon_bulk_issue_run(bulk_id=bulk.pk).counts["issued"] == 1
    assert Coupon.objects.get(template=tiered).member_id == gold.pk


def test_bulk_issue_rejects_unknown_filters():
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        coupon_bulk_issue_create(template=make_template(), filters={"colour": "red"}, enqueue=False)
    assert "filters" in exc.value.errors
    with pytest.raises(ApplicationError) as exc:
        coupon_bulk_issue_create(template=make_template(), filters={"status": ["asleep"]}, enqueue=False)
    assert "status" in exc.value.errors


def test_monthly_tier_coupons_are_idempotent_per_month():
    template = make_template(code="gold-monthly", per_member_limit=None, threshold=Decimal("0"))
    TierCouponEntitlement.objects.create(tier_code="gold", template=template, quantity=2)
    gold, silver = make_member(), make_member()
    set_tier(gold, "gold")
    set_tier(silver, "silver")
    now = timezone.now()
    counts = tier_coupons_issue(now=now)
    assert counts["issued"] == 2
    assert Coupon.objects.filter(member=gold, issued_by="tier").count() == 2
    assert not Coupon.objects.filter(member=silver).exists()
    assert tier_coupons_issue(now=now)["existing"] == 2  # re-run the same month
    assert Coupon.objects.filter(member=gold).count() == 2
    next_month = now + timedelta(days=32)
    assert tier_coupons_issue(now=next_month)["issued"] == 2
    assert Coupon.objects.filter(member=gold).count() == 4


def test_jobs_record_runs():
    from benefits.tasks import draw_trials, expire_coupons, issue_tier_coupons

    issue(make_template(), make_member())
    assert expire_coupons() == {"expired": 0, "reminded": 0}
    issue_tier_coupons()
    draw_trials()
    assert set(JobRun.objects.values_list("name", flat=True)) >= {
        "benefits.expire_coupons",
        "benefits.issue_tier_coupons",
        "benefits.draw_trials",
    }


def test_beat_schedule_is_installed():
    from django_celery_beat.models import PeriodicTask

    tasks = set(PeriodicTask.objects.filter(task__startswith="benefits.").values_list("task", flat=True))
    assert tasks == {"benefits.expire_coupons", "benefits.issue_tier_coupons", "benefits.draw_trials"}


def test_frozen_member_quote_uses_no_coupons_or_points(api_client):
    member = make_member()
    give_points(member, 5000)
    coupon = issue(make_template(threshold=Decimal("0")), member)
    member.status = "frozen"
    member.save()
    body = {
        "member": member.member_id,
        "items": [{"sku": "A", "category": "c", "quantity": 1, "unit_price": "100.00"}],
        "points_to_use": 5000,
    }
    q = api_client.post("/api/v1/checkout/quote", body, format="json").json()
    assert q["coupons"]["applied"] == [] and q["points"]["used"] == 0
    assert q["coupons"]["not_applied"] == [
        {"code": coupon.code, "reason": "member_frozen", "message": "This member cannot spend now."}
    ]
    assert q["summary"]["payable"] == "100.00"


def test_openapi_schema_includes_the_benefits_endpoints(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/coupon-templates",
        "/api/v1/members/{member}/coupons",
        "/api/v1/members/{member}/benefits",
        "/api/v1/coupons/{code}/redeem",
        "/api/v1/coupons/{code}/release",
        "/api/v1/checkout/quote",
    ):
        assert path in paths, path


def test_quote_body_matches_the_documented_schema(api_client):
    from benefits.apis import QuoteLineOutput, QuoteOutput, QuoteSummaryOutput

    member = make_member()
    issue(make_template(threshold=Decimal("0")), member)
    body = {"member": member.member_id, "items": [{"sku": "A", "quantity": 2, "unit_price": "9.99"}]}
    q = api_client.post("/api/v1/checkout/quote", body, format="json").json()
    assert set(q) == set(QuoteOutput().fields)
    assert set(q["lines"][0]) == set(QuoteLineOutput().fields)
    assert set(q["summary"]) == set(QuoteSummaryOutput().fields)
    assert q["lines"][0]["discounts"][0]["source"] == "coupon"
