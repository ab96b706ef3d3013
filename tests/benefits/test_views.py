from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from benefits.models import Coupon, TrialApplication
from benefits.services import coupon_redeem, trial_apply, trial_draw, trial_product_create
from core import registry

from .factories import issue, make_member, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client):
    member = make_member()
    client.force_login(member)
    client.member = member
    return client


def test_pages_need_login(client):
    for url in ("/benefits/", "/benefits/coupons/", "/benefits/trials/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_wallet_tabs(member_client, django_assert_max_num_queries):
    member = member_client.member
    template = make_template(name="满100减10", threshold=Decimal("0"), per_member_limit=None)
    used, old, fresh = (issue(template, member) for _ in range(3))
    coupon_redeem(code=used.code, order_id="o1", amount=Decimal("30.00"))
    Coupon.objects.filter(pk=old.pk).update(
        valid_from=timezone.now() - timedelta(days=3), valid_until=timezone.now() - timedelta(days=1)
    )
    with django_assert_max_num_queries(12):
        page = member_client.get("/benefits/coupons/").content.decode()
    assert fresh.code in page and used.code not in page and old.code not in page
    page = member_client.get("/benefits/coupons/?tab=used").content.decode()
    assert used.code in page and fresh.code not in page
    page = member_client.get("/benefits/coupons/?tab=expired").content.decode()
    assert old.code in page and fresh.code not in page


def test_member_cannot_see_another_members_coupons(member_client):
    mine = issue(make_template(), member_client.member)
    theirs = issue(make_template(), make_member())
    page = member_client.get("/benefits/coupons/").content.decode()
    assert mine.code in page and theirs.code not in page
    assert member_client.get(f"/benefits/coupons/{mine.code}/").status_code == 200
    assert member_client.get(f"/benefits/coupons/{theirs.code}/").status_code == 404


def test_benefits_page_shows_my_benefits_and_the_tier_comparison(member_client):
    from tiers.models import Tier
    from tiers.services import tier_override_set

    tier_override_set(member=member_client.member, tier=Tier.objects.get(code="gold"), reason="test")
    response = member_client.get("/benefits/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Gold" in page and "Diamond" in page and "Free shipping" in page
    assert "90%" in page


def test_benefits_page_is_translated(member_client):
    page = member_client.get("/benefits/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的权益" in page


def test_home_panel_and_nav(member_client):
    issue(make_template(name="新人券"), member_client.member)
    page = member_client.get("/").content.decode()
    assert "新人券" in page
    assert "/benefits/coupons/" in page
    assert "coupons" in registry.export_sections()


def test_trial_apply_and_report_flow(member_client):
    now = timezone.now()
    trial = trial_product_create(
        name="Tea set",
        sku="T-1",
        quantity=1,
        apply_from=now - timedelta(days=1),
        apply_until=now + timedelta(days=1),
    )
    page = member_client.get("/benefits/trials/").content.decode()
    assert "Tea set" in page
    response = member_client.post(f"/benefits/trials/{trial.pk}/apply/", {"reason": "I drink tea"})
    assert response.status_code == 302
    app = TrialApplication.objects.get(member=member_client.member)
    assert app.reason == "I drink tea"
    trial_draw(product=trial, now=trial.apply_until)
    url = f"/benefits/trials/applications/{app.pk}/report/"
    response = member_client.post(url, {"rating": "5", "text": "short"})
    assert response.status_code == 200 and "text" in response.context["form"].errors
    response = member_client.post(url, {"rating": "5", "text": "Lovely tea set, would buy."})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == "reported"


def test_cannot_report_on_another_members_application(member_client):
    now = timezone.now()
    trial = trial_product_create(
        name="Tea",
        sku="T",
        quantity=1,
        apply_from=now - timedelta(days=1),
        apply_until=now + timedelta(days=1),
    )
    other = trial_apply(product=trial, member=make_member())
    assert member_client.get(f"/benefits/trials/applications/{other.pk}/report/").status_code == 404


def test_privacy_export_section():
    from benefits.fulfilment import export_member_data

    member = make_member()
    coupon = issue(make_template(), member)
    data = export_member_data(member)
    assert data["coupons"][0]["code"] == coupon.code and data["trials"] == []


def test_admin_pages_render(admin_client):
    template = make_template()
    issue(template, make_member())
    for url in (
        "/admin/benefits/coupontemplate/",
        f"/admin/benefits/coupontemplate/{template.pk}/change/",
        "/admin/benefits/coupontemplate/add/",
        f"/admin/benefits/coupontemplate/{template.pk}/bulk-issue/",
        "/admin/benefits/coupon/?q=" + Coupon.objects.first().code,
        "/admin/benefits/trialproduct/",
        "/admin/benefits/trialapplication/",
        "/admin/benefits/tiercouponentitlement/",
        "/admin/benefits/couponbulkissue/",
        "/admin/benefits/benefit/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_admin_bulk_issue_form_creates_a_job(admin_client, django_capture_on_commit_callbacks, monkeypatch):
    from benefits import tasks
    from benefits.models import CouponBulkIssue

    queued = []
    monkeypatch.setattr(tasks.bulk_issue, "delay", lambda pk: queued.append(pk))
    template = make_template()
    url = f"/admin/benefits/coupontemplate/{template.pk}/bulk-issue/"
    response = admin_client.post(url, {"status": ["active"], "channel": "app, web", "preview": "1"})
    assert response.status_code == 200 and response.context["preview"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"status": ["active"], "channel": "app, web"})
    assert response.status_code == 302
    bulk = CouponBulkIssue.objects.get()
    assert bulk.filters == {"status": ["active"], "channel": ["app", "web"]} and queued == [bulk.pk]


def test_admin_resume_action_requeues_unfinished_bulk_issues(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    from benefits import tasks
    from benefits.services import coupon_bulk_issue_create

    queued = []
    monkeypatch.setattr(tasks.bulk_issue, "delay", lambda pk: queued.append(pk))
    bulk = coupon_bulk_issue_create(template=make_template(), filters={}, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/benefits/couponbulkissue/", {"action": "resume", "_selected_action": [bulk.pk]}
        )
    assert response.status_code == 302 and queued == [bulk.pk]


def test_trials_for_other_tiers_show_no_apply_button(member_client):
    now = timezone.now()
    trial_product_create(
        name="Gold tea",
        sku="GT",
        quantity=1,
        apply_from=now - timedelta(days=1),
        apply_until=now + timedelta(days=1),
        tier_codes=["gold"],
    )
    page = member_client.get("/benefits/trials/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Gold tea" in page and "For other member tiers" in page and "trial_apply" not in page
    assert "/apply/" not in page
