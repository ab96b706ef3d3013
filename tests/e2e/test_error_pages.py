"""Member-facing error pages: branded and translated; the API keeps problem+json."""

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation


@pytest.mark.django_db
def test_page_not_found_is_branded_and_translated(settings):
    settings.DEBUG = False
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and "mh-card" in html and "返回会员中心" in html


@pytest.mark.django_db
def test_api_not_found_stays_problem_json(settings):
    settings.DEBUG = False
    response = Client().get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_server_error_page_renders_without_a_request():
    with translation.override("zh-hans"):
        html = render_to_string("500.html")
    assert "出错了" in html and "memberhub.css" in html
