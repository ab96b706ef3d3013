"""Webhooks: fan-out, signed delivery to a local receiver, retries with backoff, dead, sweep."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from core import signing, webhooks
from core.errors import ApplicationError
from core.models import AuditLog, OutboxEvent, Partner, WebhookDelivery
from core.outbox import outbox_emit

pytestmark = pytest.mark.django_db


class Receiver:
    """A tiny HTTP server on 127.0.0.1 answering with the given status codes in turn."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def no_proxy(settings):
    settings.WEBHOOK_USE_ENV_PROXY = False


@pytest.fixture
def partner(db):
    return Partner.objects.create(name="shop")


def emit(django_capture_on_commit_callbacks, **kwargs) -> OutboxEvent:
    with django_capture_on_commit_callbacks(execute=False):
        return outbox_emit(**kwargs)


def test_fan_out_follows_partner_and_subscriptions(partner, django_capture_on_commit_callbacks):
    other = Partner.objects.create(name="pos")
    mine, _ = webhooks.webhook_endpoint_create(
        partner=partner, url="https://a.test/h", event_types=["points.earned"]
    )
    everything, _ = webhooks.webhook_endpoint_create(
        partner=partner, url="https://b.test/h", event_types=["*"]
    )
    theirs, _ = webhooks.webhook_endpoint_create(
        partner=other, url="https://c.test/h", event_types=["points.earned"]
    )
    webhooks.webhook_endpoint_create(partner=partner, url="https://d.test/h", event_types=["tier.changed"])
    webhooks.webhook_endpoint_create(
        partner=partner, url="https://e.test/h", event_types=["points.earned"], is_active=False
    )
    scoped = emit(
        django_capture_on_commit_callbacks, type="points.earned", data={"points": 5}, partner=partner
    )
    broadcast = emit(django_capture_on_commit_callbacks, type="points.earned", data={"points": 6})
    webhooks.webhooks_dispatch_event(event_pk=scoped.pk)
    webhooks.webhooks_dispatch_event(event_pk=broadcast.pk)
    webhooks.webhooks_dispatch_event(event_pk=broadcast.pk)  # idempotent
    endpoints = lambda e: set(WebhookDelivery.objects.filter(event=e).values_list("endpoint_id", flat=True))  # noqa: E731
    assert endpoints(scoped) == {mine.pk, everything.pk}
    assert endpoints(broadcast) == {mine.pk, everything.pk, theirs.pk}
    scoped.refresh_from_db()
    assert scoped.dispatched_at is not None


def test_emit_enqueues_dispatch_after_commit(partner, django_capture_on_commit_callbacks, monkeypatch):
    from core import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.webhooks_dispatch_event, "delay", lambda pk: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        event = outbox_emit(type="member.created", data={"member_id": "m_1"}, partner=partner)
    assert queued == [event.pk]


def test_endpoint_validation_and_audit(partner):
    with pytest.raises(ApplicationError) as info:
        webhooks.webhook_endpoint_create(partner=partner, url="ftp://x", event_types=["nope"])
    assert set(info.value.errors) == {"url", "event_types"}
    endpoint, secret = webhooks.webhook_endpoint_create(
        partner=partner, url="https://a.test/h", event_types=["tier.changed"], actor="test"
    )
    assert secret.startswith("whsec_") and endpoint.secret == secret
    webhooks.webhook_endpoint_update(endpoint=endpoint, is_active=False, actor="test")
    new_secret = webhooks.webhook_endpoint_secret_rotate(endpoint=endpoint, actor="test")
    assert new_secret != secret
    actions = list(
        AuditLog.objects.filter(target_type="core.webhookendpoint").values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "webhook_endpoint.created",
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint.updated",
    ]
    assert all(secret not in str(log.after) for log in AuditLog.objects.all())


def test_failed_then_succeeded_delivery_is_signed_and_recorded(partner, django_capture_on_commit_callbacks):
    with Receiver([500, 200]) as receiver:
        endpoint, secret = webhooks.webhook_endpoint_create(
            partner=partner, url=receiver.url, event_types=["points.earned"]
        )
        event = emit(
            django_capture_on_commit_callbacks,
            type="points.earned",
            data={"points": 5, "amount": "1.50"},
            partner=partner,
        )
        [delivery_pk] = webhooks.webhooks_dispatch_event(event_pk=event.pk)

        first = webhooks.webhook_delivery_attempt(delivery_pk=delivery_pk)
        assert first is not None and first.status_code == 500 and not first.succeeded
        delivery = WebhookDelivery.objects.get(pk=delivery_pk)
        assert delivery.status == "failed" and delivery.attempts == 1
        delay = (delivery.next_attempt_at - first.at).total_seconds()
        assert 29 <= delay <= 31
        # Not due yet: a second worker or the sweep does nothing.
        assert webhooks.webhook_delivery_attempt(delivery_pk=delivery_pk) is None

        WebhookDelivery.objects.filter(pk=delivery_pk).update(next_attempt_at=timezone.now())
        second = webhooks.webhook_delivery_attempt(delivery_pk=delivery_pk)
        assert second is not None and second.status_code == 200 and second.succeeded
        assert second.response_excerpt == "answer 200"

    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2 and delivery.next_attempt_at is None
    assert delivery.attempt_log.count() == 2
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        signing.verify(secret, request["headers"]["X-Signature"], request["body"])
        payload = json.loads(request["body"])
        assert payload == {
            "id": event.public_id,
            "type": "points.earned",
            "created_at": payload["created_at"],
            "data": {"points": 5, "amount": "1.50"},
        }
        assert "+08:00" in payload["created_at"]
    assert receiver.requests[1]["headers"]["X-Webhook-Attempt"] == "2"
    # Done: nothing more to send.
    assert webhooks.webhook_delivery_attempt(delivery_pk=delivery_pk) is None


def test_delivery_dies_after_the_retry_period(partner, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_MAX_AGE_SECONDS = 60
    with Receiver([503, 503, 503]) as receiver:
        endpoint, _ = webhooks.webhook_endpoint_create(partner=partner, url=receiver.url, event_types=["*"])
        event = emit(django_capture_on_commit_callbacks, type="tier.changed", data={}, partner=partner)
        [pk] = webhooks.webhooks_dispatch_event(event_pk=event.pk)
        webhooks.webhook_delivery_attempt(delivery_pk=pk)
        assert WebhookDelivery.objects.get(pk=pk).status == "failed"
        # The retry period has passed: the next failure is the last one.
        WebhookDelivery.objects.filter(pk=pk).update(
            next_attempt_at=timezone.now(), retry_until=timezone.now() - timedelta(seconds=1)
        )
        webhooks.webhook_delivery_attempt(delivery_pk=pk)
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.status == "dead" and delivery.attempts == 2 and delivery.next_attempt_at is None
    assert delivery.attempt_log.count() == 2
    assert webhooks.webhook_delivery_attempt(delivery_pk=pk) is None


def test_unreachable_endpoint_records_the_error(partner, django_capture_on_commit_callbacks):
    endpoint, _ = webhooks.webhook_endpoint_create(
        partner=partner, url="http://127.0.0.1:9/nothing", event_types=["*"]
    )
    event = emit(django_capture_on_commit_callbacks, type="coupon.issued", data={}, partner=partner)
    [pk] = webhooks.webhooks_dispatch_event(event_pk=event.pk)
    attempt = webhooks.webhook_delivery_attempt(delivery_pk=pk)
    assert attempt.status_code is None and attempt.error


def test_backoff_schedule_is_exponential_and_capped():
    assert webhooks.retry_delay(1) == timedelta(seconds=30)
    assert webhooks.retry_delay(2) == timedelta(seconds=60)
    assert webhooks.retry_delay(5) == timedelta(seconds=480)
    assert webhooks.retry_delay(20) == timedelta(hours=6)
    assert webhooks.max_age() >= timedelta(hours=24)


def test_sweep_dispatches_lost_events_and_queues_due_deliveries(
    partner, django_capture_on_commit_callbacks, monkeypatch
):
    from core import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.webhooks_deliver, "delay", lambda pk: queued.append(pk))
    webhooks.webhook_endpoint_create(partner=partner, url="https://a.test/h", event_types=["*"])
    # The broker was down at commit: the event was never dispatched.
    event = emit(django_capture_on_commit_callbacks, type="member.created", data={}, partner=partner)
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    result = tasks.webhooks_sweep()
    assert result["events_dispatched"] == 1
    delivery = WebhookDelivery.objects.get(event=event)
    assert queued == [delivery.pk]
    assert result["deliveries_queued"] == 1


def test_resend_restarts_a_dead_delivery(partner, django_capture_on_commit_callbacks):
    with Receiver([500, 200]) as receiver:
        webhooks.webhook_endpoint_create(partner=partner, url=receiver.url, event_types=["*"])
        event = emit(django_capture_on_commit_callbacks, type="points.expired", data={}, partner=partner)
        [pk] = webhooks.webhooks_dispatch_event(event_pk=event.pk)
        WebhookDelivery.objects.filter(pk=pk).update(retry_until=timezone.now())
        webhooks.webhook_delivery_attempt(delivery_pk=pk)
        delivery = WebhookDelivery.objects.get(pk=pk)
        assert delivery.status == "dead"
        with django_capture_on_commit_callbacks(execute=False):
            webhooks.webhook_delivery_resend(delivery=delivery, actor="test")
        attempt = webhooks.webhook_delivery_attempt(delivery_pk=pk)
    assert attempt.succeeded
    assert WebhookDelivery.objects.get(pk=pk).status == "succeeded"
    assert AuditLog.objects.filter(action="webhook_delivery.resent").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_delivery_twice():
    partner = Partner.objects.create(name="shop")
    with Receiver([200]) as receiver:
        webhooks.webhook_endpoint_create(partner=partner, url=receiver.url, event_types=["*"])
        event = outbox_emit(type="points.earned", data={}, partner=partner)
        [pk] = webhooks.webhooks_dispatch_event(event_pk=event.pk)
        from django.db import connection

        barrier = threading.Barrier(4)

        def worker():
            try:
                barrier.wait()
                webhooks.webhook_delivery_attempt(delivery_pk=pk)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get(pk=pk).attempts == 1


def test_rotated_secret_signs_with_old_and_new_for_a_while(partner, django_capture_on_commit_callbacks):
    with Receiver([200, 200]) as receiver:
        endpoint, old = webhooks.webhook_endpoint_create(partner=partner, url=receiver.url, event_types=["*"])
        new = webhooks.webhook_endpoint_secret_rotate(endpoint=endpoint)
        event = emit(django_capture_on_commit_callbacks, type="points.earned", data={}, partner=partner)
        [pk] = webhooks.webhooks_dispatch_event(event_pk=event.pk)
        webhooks.webhook_delivery_attempt(delivery_pk=pk)
        from core.models import WebhookEndpoint

        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
        event2 = emit(django_capture_on_commit_callbacks, type="points.earned", data={}, partner=partner)
        [pk2] = webhooks.webhooks_dispatch_event(event_pk=event2.pk)
        webhooks.webhook_delivery_attempt(delivery_pk=pk2)
    first, second = receiver.requests
    for secret in (old, new):
        signing.verify(secret, first["headers"]["X-Signature"], first["body"])
    signing.verify(new, second["headers"]["X-Signature"], second["body"])
    with pytest.raises(signing.SignatureMismatch):
        signing.verify(old, second["headers"]["X-Signature"], second["body"])


def test_purge_keeps_recent_and_open_deliveries(partner, django_capture_on_commit_callbacks):
    webhooks.webhook_endpoint_create(partner=partner, url="http://127.0.0.1:9/x", event_types=["*"])
    events = [
        emit(django_capture_on_commit_callbacks, type="points.earned", data={}, partner=partner)
        for _ in range(3)
    ]
    for event in events:
        webhooks.webhooks_dispatch_event(event_pk=event.pk)
    old, old_open, recent = events
    WebhookDelivery.objects.filter(event__in=[old, recent]).update(status="succeeded", next_attempt_at=None)
    OutboxEvent.objects.filter(pk__in=[old.pk, old_open.pk]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    from core.tasks import webhooks_purge

    result = webhooks_purge()
    assert result["events"] == 1 and result["deliveries"] == 1
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {old_open.pk, recent.pk}
