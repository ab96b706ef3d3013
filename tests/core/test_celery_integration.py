"""A real Celery worker consumes from Redis and its task writes to the database."""

import os

import pytest
from django.conf import settings

from core.models import JobRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_worker_runs_a_task_from_redis_and_writes_to_the_database():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from core.tasks import heartbeat

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        heartbeat.delay()
        import time

        deadline = time.time() + 30
        while (
            time.time() < deadline
            and not JobRun.objects.filter(name="core.heartbeat", status="succeeded").exists()
        ):
            time.sleep(0.2)
    assert JobRun.objects.filter(name="core.heartbeat", status="succeeded").count() == 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_outbox_event_reaches_a_webhook_receiver_through_a_real_worker(settings):
    """outbox_emit → commit → worker fans out → worker POSTs a signed delivery."""
    import time

    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from core import signing
    from core.models import Partner, WebhookDelivery
    from core.outbox import outbox_emit
    from core.webhooks import webhook_endpoint_create
    from tests.core.test_webhooks import Receiver

    settings.WEBHOOK_USE_ENV_PROXY = False
    partner = Partner.objects.create(name="shop")
    with (
        Receiver([200]) as receiver,
        start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10),
    ):
        _, secret = webhook_endpoint_create(partner=partner, url=receiver.url, event_types=["points.earned"])
        event = outbox_emit(
            type="points.earned", data={"points": 7}, partner=partner
        )  # autocommit: on_commit runs now
        deadline = time.time() + 30
        while (
            time.time() < deadline
            and not WebhookDelivery.objects.filter(event=event, status="succeeded").exists()
        ):
            time.sleep(0.2)
    assert WebhookDelivery.objects.get(event=event).status == "succeeded"
    [request] = receiver.requests
    signing.verify(secret, request["headers"]["X-Signature"], request["body"])
