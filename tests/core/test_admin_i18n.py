"""The back office reads in 简体中文 for operators, and every registered admin page renders."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import translation

pytestmark = pytest.mark.django_db

DOMAIN_APPS = {"core", "members", "tiers", "points", "benefits", "analytics", "campaigns"}


@pytest.fixture
def zh_operator(client):
    user = get_user_model().objects.create_superuser(email="ops-zh@example.com", password="S3cure-pass-123")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    client.user = user
    return client


def _text(response) -> str:
    assert response.status_code == 200, response
    return response.content.decode()


def test_admin_index_shows_chinese_app_and_model_names(zh_operator):
    page = _text(zh_operator.get("/admin/"))
    for label in ["会员", "积分", "会员等级", "权益与优惠券", "平台基础"]:  # app names
        assert label in page, label
    for label in ["积分流水", "积分账户", "优惠券模板", "Webhook 推送", "任务运行记录", "通知"]:  # models
        assert label in page, label
    for english in ["Benefits and coupons", "Job runs", "Notifications", "Webhook deliveries", "Core<"]:
        assert english not in page, english


def test_changelists_and_forms_show_chinese_labels(zh_operator):
    from core.models import JobRun

    JobRun.objects.create(name="points.expire_lots", status=JobRun.Status.SUCCEEDED, counts={"expired": 3})
    page = _text(zh_operator.get("/admin/core/jobrun/"))
    for label in ["任务运行记录", "开始时间", "结束时间", "成功", "平台基础"]:  # title, columns, status, app
        assert label in page, label
    for english in ["Job runs", "Started at", "Succeeded", ">Core<"]:
        assert english not in page, english
    from core.services import api_key_create

    api_key_create(partner_name="shop", scopes=["members:read"])
    page = _text(zh_operator.get("/admin/core/apikey/"))
    assert "立即吊销所选密钥" in page and "要求签名" in page  # action, list filter title
    page = _text(zh_operator.get("/admin/benefits/coupontemplate/add/"))
    assert "优惠券模板" in page and "每人限领" in page
    page = _text(zh_operator.get("/admin/members/notification/"))
    assert "通知" in page and "Notifications" not in page


def test_english_operators_still_get_english(client):
    user = get_user_model().objects.create_superuser(email="ops-en@example.com", password="S3cure-pass-123")
    client.force_login(user)
    page = _text(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Benefits and coupons" in page and "Points entries" in page and "优惠券模板" not in page


def test_every_registered_changelist_and_add_page_renders_in_chinese(zh_operator):
    request = RequestFactory().get("/admin/")
    request.user = zh_operator.user
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in DOMAIN_APPS:
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        response = zh_operator.get(base)
        assert response.status_code == 200, base
        with translation.override("zh-hans"):
            title = str(model._meta.verbose_name_plural)
        assert re.search(r"[\u4e00-\u9fff]", title), f"{model._meta.label} has no Chinese name: {title}"
        assert title in response.content.decode(), base
        if model_admin.has_add_permission(request):
            assert zh_operator.get(base + "add/").status_code == 200, base + "add/"
        checked += 1
    assert checked >= 30
