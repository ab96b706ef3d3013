"""Member centre pages, registry hooks, privacy export and the back office."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core import registry
from core.models import AuditLog
from tiers import selectors
from tiers.exports import export_section
from tiers.models import MemberTier, Tier
from tiers.services import subscription_purchase

from .factories import grow, make_member, make_staff

pytestmark = pytest.mark.django_db


def test_my_tier_page_in_chinese(client, django_assert_max_num_queries):
    member = make_member()
    grow(member, 1200)
    subscription_purchase(member=member, plan="plus_month", payment_reference="page-1")
    client.force_login(member)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("tiers:mine"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    html = response.content.decode()
    assert "我的等级" in html and "银卡会员" in html
    assert "3800" in html  # needed for gold
    assert "保级条件" in html and "800" in html
    assert "PLUS 月卡" in html
    assert "包邮" in html  # the comparison table's benefit labels


def test_my_tier_page_in_english_and_growth_history(client):
    member = make_member()
    grow(member, 50)
    client.force_login(member)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("tiers:mine"), HTTP_ACCEPT_LANGUAGE="en")
    assert "My tier" in response.content.decode()
    response = client.get(reverse("tiers:growth"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "+50" in response.content.decode()


def test_pages_need_login(client):
    response = client.get(reverse("tiers:mine"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_registry_hooks():
    assert "tier" in [p.name for p in registry.home_panels()]
    assert "tiers:mine" in [link.url_name for link in registry.nav_links()]
    assert "tiers" in registry.export_sections()
    assert "tiers" in [s.name for s in registry.seeders()]


def test_home_panel_renders(client):
    member = make_member()
    grow(member, 1200)
    client.force_login(member)
    response = client.get(reverse("members:home"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "1200" in response.content.decode()


def test_export_section():
    member = make_member()
    grow(member, 1200, source_id="o-export")
    data = export_section(member)
    assert data["effective_tier"] == "silver" and data["growth_total"] == 1200
    assert data["growth_entries"][0]["source_id"] == "o-export"
    assert data["tier_changes"][0]["to"] == "silver"


def test_tier_validation():
    gold = Tier.objects.get(code="gold")
    gold.growth_threshold = 900  # below silver's 1000
    with pytest.raises(ValidationError) as exc:
        gold.full_clean()
    assert "growth_threshold" in exc.value.error_dict
    gold.refresh_from_db()
    gold.discount_rate = Decimal("1.10")
    with pytest.raises(ValidationError) as exc:
        gold.full_clean()
    assert "discount_rate" in exc.value.error_dict
    gold.refresh_from_db()
    gold.retention_growth = 6000
    with pytest.raises(ValidationError) as exc:
        gold.full_clean()
    assert "retention_growth" in exc.value.error_dict
    dup = Tier(code="gold2", rank=2, name="金", name_en="Gold 2", growth_threshold=7000)
    with pytest.raises(ValidationError) as exc:
        dup.full_clean()
    assert "rank" in exc.value.error_dict


def test_admin_pages_and_override(client):
    operator = make_staff()
    member = make_member()
    grow(member, 1200)
    client.force_login(operator)
    for name in ("tier", "growthrule", "paidplan", "subscription", "membertier", "growthentry", "tierchange"):
        response = client.get(reverse(f"admin:tiers_{name}_changelist"))
        assert response.status_code == 200, name
    url = reverse("admin:tiers_membertier_change", args=[member.pk])
    assert client.get(url).status_code == 200
    diamond = Tier.objects.get(code="diamond")
    response = client.post(url, {"override_tier": diamond.pk, "override_reason": "", "override_until": ""})
    assert response.status_code == 200  # reason required: form shown again
    assert MemberTier.objects.get(member=member).override_tier is None
    response = client.post(
        url, {"override_tier": diamond.pk, "override_reason": "Key account", "override_until": ""}
    )
    assert response.status_code == 302
    assert selectors.tier_effective(member=member).code == "diamond"
    assert AuditLog.objects.filter(action="tiers.override_set", actor_user=operator).exists()
    admin_tier_url = reverse("admin:tiers_tier_change", args=[Tier.objects.get(code="gold").pk])
    page = client.get(admin_tier_url)
    assert page.status_code == 200


def test_jobs_are_scheduled_and_registered():
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    names = set(PeriodicTask.objects.filter(task__startswith="tiers.").values_list("task", flat=True))
    assert names == {"tiers.reevaluate", "tiers.expire_subscriptions"}
    app.loader.import_default_modules()
    assert {"tiers.reevaluate", "tiers.expire_subscriptions"} <= set(app.tasks)


def test_member_tier_api_query_budget(make_api_client, django_assert_max_num_queries):
    client = make_api_client(scopes=["members:read"])
    member = make_member()
    grow(member, 1200)
    subscription_purchase(member=member, plan="plus_year", payment_reference="budget-1")
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/members/{member.member_id}/tier")
    assert response.status_code == 200 and response.json()["paid_plan"]["plan"] == "plus_year"
