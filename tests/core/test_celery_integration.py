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
