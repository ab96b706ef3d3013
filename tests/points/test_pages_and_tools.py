"""Member-centre pages, the privacy export section, the CSV import command and the seeder."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core import registry
from core.models import Partner
from points.models import Order, OrderItem, RewardRedemption
from points.selectors import points_balance
from points.services import points_reconcile, reward_create

from .factories import give_points, make_member

pytestmark = pytest.mark.django_db


def test_points_page_with_filters_and_pagination(client, django_assert_max_num_queries):
    member = make_member()
    for i in range(25):
        give_points(member, 10 + i)
    client.force_login(member)
    with django_assert_max_num_queries(15):
        r = client.get("/points/")
    assert r.status_code == 200
    body = r.content.decode()
    assert str(points_balance(member=member)["available"]) in body
    assert "我的积分" in body and "即将过期" in body  # zh-hans by default
    r = client.get("/points/?kind=earn&page=2")
    assert r.status_code == 200
    r = client.get("/points/?date_from=2030-01-02&date_to=2030-01-01")
    assert r.status_code == 200


def test_mall_redeem_by_form(client):
    member = make_member()
    give_points(member, 300)
    reward = reward_create(name="帆布袋", kind="goods", points_price=120, stock=3)
    client.force_login(member)
    r = client.get("/points/mall/")
    assert r.status_code == 200 and "帆布袋" in r.content.decode()
    r = client.post("/points/mall/redeem/", {"reward": reward.code, "quantity": 2}, follow=True)
    assert r.status_code == 200
    assert points_balance(member=member)["available"] == 60
    r = client.post("/points/mall/redeem/", {"reward": reward.code, "quantity": 1}, follow=True)
    assert RewardRedemption.objects.count() == 1  # not enough points: refused with a message
    assert points_balance(member=member)["available"] == 60


def test_pages_need_login(client):
    assert client.get("/points/").status_code == 302


def test_registry_entries_and_export_section():
    assert any(p.name == "points" and p.order == 10 for p in registry.home_panels())
    names = {link.url_name for link in registry.nav_links()}
    assert {"points:mine", "points:mall"} <= names
    member = make_member()
    give_points(member, 42)
    section = registry.export_sections()["points"](member)
    assert section["balance"]["available"] == 42 and len(section["entries"]) == 1


def test_import_orders_command(tmp_path):
    Partner.objects.get_or_create(name="shop")
    member = make_member()
    paid = (timezone.now() - timedelta(days=40)).isoformat()
    csv_text = (
        "order_id,member,amount,currency,paid_at,channel,store_id,sku,category,quantity,unit_price\n"
        f"H1,{member.member_id},120.00,CNY,{paid},store,S001,A1,apparel,1,100.00\n"
        f"H1,{member.member_id},120.00,CNY,{paid},store,S001,B2,grocery,2,10.00\n"
        f"H2,{member.member_id},30.00,CNY,{paid},app,,C3,home,1,30.00\n"
        f"H3,m_nobody,30.00,CNY,{paid},app,,C3,home,1,30.00\n"
    )
    path = tmp_path / "orders.csv"
    path.write_text(csv_text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_orders", str(path), "--partner", "shop", stdout=out, stderr=err)
    assert "created 2, duplicate 0, rejected 1" in out.getvalue()
    assert "H3" in err.getvalue()
    assert OrderItem.objects.filter(order__order_id="H1").count() == 2
    assert points_balance(member=member)["available"] == 150
    out = io.StringIO()
    call_command("import_orders", str(path), stdout=out, stderr=io.StringIO())
    assert "created 0, duplicate 2, rejected 1" in out.getvalue()


def test_seeder_builds_a_consistent_ledger():
    from django.contrib.auth import get_user_model

    from points.seed import seed_orders

    for _ in range(30):
        make_member()
    # Members who joined a year ago, so that they have order history whatever the time of day.
    get_user_model().objects.filter(is_staff=False).update(date_joined=timezone.now() - timedelta(days=365))
    seed_orders(members=30, stdout=io.StringIO(), rng=random.Random(7))
    assert Order.objects.count() > 0
    report = points_reconcile()
    assert report.accounts_checked >= 30
    assert report.drift_count == 0


def test_admin_pages_render_and_approve_action(client):
    from points.models import PointsAdjustment
    from points.services import points_adjustment_request

    from .factories import make_staff

    first = make_staff(is_superuser=True)
    second = make_staff(is_superuser=True)
    member = make_member()
    give_points(member, 10)
    adjustment = points_adjustment_request(member=member, points=2000, reason="goodwill", requested_by=first)
    client.force_login(second)
    for url in (
        "/admin/points/pointsaccount/",
        "/admin/points/pointsentry/",
        "/admin/points/pointslot/",
        "/admin/points/earningrule/",
        "/admin/points/promomultiplier/",
        "/admin/points/pointssettings/",
        "/admin/points/pointsadjustment/",
        "/admin/points/reward/",
        "/admin/points/rewardredemption/",
        "/admin/points/order/",
        "/admin/points/reconciliationreport/",
    ):
        assert client.get(url).status_code == 200, url
    r = client.post(
        "/admin/points/pointsadjustment/",
        {"action": "approve_adjustments", "_selected_action": [adjustment.pk]},
        follow=True,
    )
    assert r.status_code == 200
    adjustment.refresh_from_db()
    assert adjustment.status == PointsAdjustment.Status.POSTED
    assert points_balance(member=member)["available"] == 2010


def test_home_panel_on_the_member_home(client):
    member = make_member()
    give_points(member, 77)
    client.force_login(member)
    r = client.get("/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "77" in body and "/points/mall/" in body
