"""Every error under /api/ is application/problem+json with a stable code (DEBUG off)."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from .test_auth import assert_problem

pytestmark = pytest.mark.django_db

POSTINGS = "/api/v1/_test/postings"


def test_401_403(crash_urls, make_api_client):
    assert_problem(APIClient().get("/api/v1/_test/scoped"), 401, "not_authenticated")
    assert_problem(make_api_client(scopes=["members:read"]).get("/api/v1/_test/scoped"), 403, "missing_scope")


def test_404_unknown_url(crash_urls, api_client):
    assert_problem(api_client.get("/api/v1/nothing/here"), 404, "not_found")
    assert_problem(APIClient().post("/api/v1/nothing", {}, format="json"), 404, "not_found")


def test_404_unknown_url_with_debug_on(crash_urls, api_client, settings):
    settings.DEBUG = True
    assert_problem(api_client.get("/api/v1/nothing/here"), 404, "not_found")


def test_405_method_not_allowed(crash_urls, api_client):
    response = api_client.delete("/api/v1/_test/scoped")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_400_validation_lists_fields(crash_urls, api_client):
    response = api_client.post(
        POSTINGS,
        {"amount": "1.234", "currency": "XYZ", "points": 1.5},
        format="json",
        HTTP_IDEMPOTENCY_KEY="v1",
    )
    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"amount", "currency", "points"}
    assert all(isinstance(m, list) and m for m in body["errors"].values())


def test_400_malformed_json(crash_urls, api_client):
    response = api_client.generic(
        "POST", POSTINGS, b'{"amount": ', content_type="application/json", HTTP_IDEMPOTENCY_KEY="p1"
    )
    assert_problem(response, 400, "invalid")


def test_415_unsupported_media_type(crash_urls, api_client):
    response = api_client.generic(
        "POST", POSTINGS, b"amount=1", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="m1"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_413_body_too_large(crash_urls, api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = json.dumps({"amount": "1.00", "pad": "x" * 2048})
    response = api_client.generic(
        "POST", POSTINGS, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="big"
    )
    assert_problem(response, 413, "payload_too_large")


def test_429_rate_limited(crash_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    client.partner.rate_limit_per_minute = 2
    client.partner.save()
    assert client.get("/api/v1/_test/scoped").status_code == 200
    assert client.get("/api/v1/_test/scoped").status_code == 200
    response = client.get("/api/v1/_test/scoped")
    assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_500_in_a_drf_view(crash_urls, api_client):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=api_client._credentials["HTTP_AUTHORIZATION"])
    body = assert_problem(client.get("/api/v1/_test/crash"), 500, "server_error")
    assert "boom" not in json.dumps(body)


def test_500_in_a_plain_django_view(crash_urls):
    client = APIClient(raise_request_exception=False)
    body = assert_problem(client.get("/api/v1/_test/plain-crash"), 500, "server_error")
    assert "boom" not in json.dumps(body)


def test_html_error_from_django_itself_is_rewritten(crash_urls, settings):
    # A disallowed Host is refused by Django before any view: still problem+json.
    settings.ALLOWED_HOSTS = ["example.com"]
    response = APIClient().get("/api/v1/_test/scoped", HTTP_HOST="evil.test")
    assert_problem(response, 400, "invalid")


def test_pages_outside_the_api_keep_html(crash_urls, client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "problem+json" not in response["Content-Type"]
