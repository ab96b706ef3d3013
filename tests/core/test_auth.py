"""API keys: authentication, scopes, revoke and rotate, audit, management command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiKey, AuditLog, Partner
from core.services import api_key_create, api_key_revoke, api_key_rotate

pytestmark = pytest.mark.django_db

SCOPED = "/api/v1/_test/scoped"


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_missing_key_is_401_not_authenticated(platform_urls):
    response = APIClient().get(SCOPED)
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer mh_nope_nope", "Bearer not-a-key", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer mh_a_b_c"],
)
def test_wrong_key_is_401_invalid_api_key(platform_urls, api_client, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_problem(client.get(SCOPED), 401, "invalid_api_key")


def test_right_prefix_wrong_secret_is_invalid(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    prefix = client.api_key.prefix
    assert_problem(bearer(f"mh_{prefix}_wrongsecret").get(SCOPED), 401, "invalid_api_key")


def test_valid_key_works_and_records_last_use(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    assert client.api_key.last_used_at is None
    response = client.get(SCOPED)
    assert response.status_code == 200
    assert response.json() == {"partner": "shop"}
    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at is not None


def test_missing_scope_is_403_missing_scope(platform_urls, make_api_client):
    client = make_api_client(scopes=["members:read"])
    body = assert_problem(client.get(SCOPED), 403, "missing_scope")
    assert "analytics:read" in body["detail"]


def test_revoked_key_is_401_api_key_revoked(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    api_key_revoke(api_key=client.api_key)
    assert_problem(client.get(SCOPED), 401, "api_key_revoked")
    assert AuditLog.objects.filter(action="api_key.revoked", target_id=str(client.api_key.pk)).exists()


def test_inactive_partner_is_refused(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    Partner.objects.filter(pk=client.partner.pk).update(is_active=False)
    assert_problem(client.get(SCOPED), 401, "api_key_revoked")


def test_rotated_key_keeps_working_during_the_grace_period(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    new_key, raw = api_key_rotate(api_key=client.api_key)
    old = ApiKey.objects.get(pk=client.api_key.pk)
    assert old.expires_at is not None
    assert timedelta(hours=23) < old.expires_at - timezone.now() <= timedelta(hours=24)
    assert new_key.scopes == ["analytics:read"] and new_key.rotated_from_id == old.pk
    assert client.get(SCOPED).status_code == 200  # old key, in grace
    assert bearer(raw).get(SCOPED).status_code == 200  # new key
    assert AuditLog.objects.filter(action="api_key.rotated", target_id=str(old.pk)).exists()


def test_rotated_key_stops_after_the_grace_period(platform_urls, make_api_client, settings):
    client = make_api_client(scopes=["analytics:read"])
    settings.API_KEY_ROTATION_GRACE_HOURS = 1
    _, raw = api_key_rotate(api_key=client.api_key)
    old = ApiKey.objects.get(pk=client.api_key.pk)
    assert old.expires_at - timezone.now() <= timedelta(hours=1)
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(client.get(SCOPED), 401, "api_key_revoked")
    assert bearer(raw).get(SCOPED).status_code == 200


def test_rotate_with_zero_grace_and_revoked_key_cannot_rotate(make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    api_key_rotate(api_key=client.api_key, grace_period=timedelta(0))
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        api_key_rotate(api_key=client.api_key)


def test_key_is_stored_hashed_and_create_is_audited(db):
    api_key, raw = api_key_create(partner_name="pos", scopes=["members:read"], actor="test")
    assert raw.startswith(f"mh_{api_key.prefix}_")
    assert raw not in api_key.key_hash
    log = AuditLog.objects.get(action="api_key.created", target_id=str(api_key.pk))
    assert log.actor_label == "test"
    assert raw not in str(log.after)


def test_unknown_scope_is_refused(db):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as info:
        api_key_create(partner_name="pos", scopes=["root"])
    assert "scopes" in info.value.errors


def test_create_api_key_command_prints_the_key_last(platform_urls):
    out = StringIO()
    call_command("create_api_key", partner="app", scopes="analytics:read,members:read", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("mh_")
    assert bearer(raw).get(SCOPED).status_code == 200
