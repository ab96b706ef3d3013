"""Admin: keys shown once, revoke/rotate actions, webhook endpoints, re-send, audit log read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.utils import timezone

from core.models import ApiKey, AuditLog, Partner, WebhookDelivery, WebhookEndpoint
from core.outbox import outbox_emit
from core.webhooks import webhooks_dispatch_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    user = get_user_model().objects.create_superuser(email="ops@example.com", password="S3cure-pass-123")
    client.force_login(user)
    client.user = user
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # messages asserted in English; zh-hans: test_admin_i18n
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_add_key_shows_the_raw_key_once(operator_client, platform_urls):
    partner = Partner.objects.create(name="shop")
    response = operator_client.post(
        "/admin/core/apikey/add/",
        {"partner": partner.pk, "name": "checkout", "scopes": ["analytics:read"], "require_signature": ""},
        follow=True,
    )
    assert response.status_code == 200
    api_key = ApiKey.objects.get(partner=partner)
    [shown] = [m for m in messages_of(response) if "mh_" in m]
    raw = shown.split(": ", 1)[1].split(" ")[0]
    assert raw.startswith(f"mh_{api_key.prefix}_")
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/_test/scoped").status_code == 200
    log = AuditLog.objects.get(action="api_key.created")
    assert log.actor_user == operator_client.user and log.actor_type == "operator"
    # The change page never shows the key or its hash.
    page = operator_client.get(f"/admin/core/apikey/{api_key.pk}/change/").content.decode()
    assert raw not in page and api_key.key_hash not in page


def test_revoke_and_rotate_actions(operator_client):
    from core.services import api_key_create

    api_key, _ = api_key_create(partner_name="shop", scopes=["members:read"])
    confirm = operator_client.post(
        "/admin/core/apikey/", {"action": "rotate_keys", "_selected_action": [api_key.pk]}
    )
    assert confirm.status_code == 200 and b"grace_hours" in confirm.content
    assert ApiKey.objects.count() == 1  # nothing rotated before confirmation
    response = operator_client.post(
        "/admin/core/apikey/",
        {"action": "rotate_keys", "_selected_action": [api_key.pk], "apply": "1", "grace_hours": "2"},
        follow=True,
    )
    assert any("New key for shop" in m for m in messages_of(response))
    api_key.refresh_from_db()
    assert timezone.now() + timedelta(hours=1.9) < api_key.expires_at <= timezone.now() + timedelta(hours=2)
    operator_client.post("/admin/core/apikey/", {"action": "revoke_keys", "_selected_action": [api_key.pk]})
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert operator_client.get(f"/admin/core/apikey/{api_key.pk}/delete/").status_code == 403
    assert {"api_key.rotated", "api_key.revoked"} <= set(AuditLog.objects.values_list("action", flat=True))


def test_reset_signing_secret_action(operator_client):
    from core.services import api_key_create

    api_key, _ = api_key_create(partner_name="shop", scopes=[])
    response = operator_client.post(
        "/admin/core/apikey/",
        {"action": "reset_signing_secret", "_selected_action": [api_key.pk]},
        follow=True,
    )
    api_key.refresh_from_db()
    assert api_key.require_signature
    assert any(api_key.signing_secret in m for m in messages_of(response))


def test_webhook_endpoint_admin_shows_secret_once_and_audits(operator_client):
    partner = Partner.objects.create(name="shop")
    response = operator_client.post(
        "/admin/core/webhookendpoint/add/",
        {
            "partner": partner.pk,
            "url": "https://shop.test/hooks",
            "event_types": ["points.earned"],
            "is_active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert any(endpoint.secret in m for m in messages_of(response))
    operator_client.post(
        f"/admin/core/webhookendpoint/{endpoint.pk}/change/",
        {
            "partner": partner.pk,
            "url": "https://shop.test/v2",
            "event_types": ["points.earned", "tier.changed"],
        },
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://shop.test/v2" and not endpoint.is_active
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"webhook_endpoint.created", "webhook_endpoint.updated"} <= actions


def test_delivery_admin_lists_attempts_and_resends(operator_client, django_capture_on_commit_callbacks):
    partner = Partner.objects.create(name="shop")
    from core.webhooks import webhook_endpoint_create

    webhook_endpoint_create(partner=partner, url="https://shop.test/h", event_types=["*"])
    with django_capture_on_commit_callbacks(execute=False):
        event = outbox_emit(type="member.created", data={}, partner=partner)
        [pk] = webhooks_dispatch_event(event_pk=event.pk)
    WebhookDelivery.objects.filter(pk=pk).update(status="dead", next_attempt_at=None)
    assert operator_client.get("/admin/core/webhookdelivery/").status_code == 200
    assert operator_client.get(f"/admin/core/webhookdelivery/{pk}/change/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        operator_client.post("/admin/core/webhookdelivery/", {"action": "resend", "_selected_action": [pk]})
    assert WebhookDelivery.objects.get(pk=pk).status == "pending"


def test_audit_log_cannot_be_edited_or_deleted(operator_client):
    from core.services import audit_log_record

    log = audit_log_record(action="x.y", actor_type="system", note="original")
    assert operator_client.get("/admin/core/auditlog/").status_code == 200
    assert operator_client.get(f"/admin/core/auditlog/{log.pk}/change/").status_code == 200  # view only
    response = operator_client.post(f"/admin/core/auditlog/{log.pk}/change/", {"note": "edited"})
    assert response.status_code == 403
    assert operator_client.post(f"/admin/core/auditlog/{log.pk}/delete/", {"post": "yes"}).status_code == 403
    assert operator_client.get("/admin/core/auditlog/add/").status_code == 403
    response = operator_client.post(
        "/admin/core/auditlog/", {"action": "delete_selected", "_selected_action": [log.pk]}
    )
    log.refresh_from_db()
    assert log.note == "original"


def test_changelists_do_not_grow_queries_with_rows(operator_client, django_assert_max_num_queries):
    from core.services import api_key_create
    from core.webhooks import webhook_endpoint_create

    partner = Partner.objects.create(name="shop")
    webhook_endpoint_create(partner=partner, url="https://shop.test/h", event_types=["*"])
    for i in range(15):
        api_key_create(partner_name=f"p{i}", scopes=["members:read"])
        event = outbox_emit(type="member.created", data={}, partner=partner)
        webhooks_dispatch_event(event_pk=event.pk)
    for url in (
        "/admin/core/apikey/",
        "/admin/core/webhookdelivery/",
        "/admin/core/outboxevent/",
        "/admin/core/auditlog/",
    ):
        with django_assert_max_num_queries(12):
            assert operator_client.get(url).status_code == 200
