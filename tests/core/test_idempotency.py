"""Idempotency-Key: replay, reuse with another body, refusals, scoping, concurrency, purge."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.models import AuditLog, IdempotencyRecord
from core.services import idempotency_records_purge
from tests.core import testing_urls

from .test_auth import assert_problem

pytestmark = pytest.mark.django_db

POSTINGS = "/api/v1/_test/postings"


def post(client, body, key="key-1"):
    return client.post(POSTINGS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def postings() -> int:
    return AuditLog.objects.filter(action="test.posted").count()


def test_replay_returns_the_stored_response(platform_urls, api_client, posting_body):
    first = post(api_client, posting_body)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = post(api_client, posting_body)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert postings() == 1
    # Key order and whitespace do not make a different request.
    third = api_client.generic(
        "POST",
        POSTINGS,
        '{"points": 10, "currency": "CNY",   "amount": "199.00"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )
    assert third.status_code == 201 and third["Idempotent-Replayed"] == "true"


def test_same_key_different_body_is_409(platform_urls, api_client, posting_body):
    assert post(api_client, posting_body).status_code == 201
    response = post(api_client, {**posting_body, "amount": "200.00"})
    assert_problem(response, 409, "idempotency_key_reused")
    assert postings() == 1


def test_key_is_required_where_the_view_says_so(platform_urls, api_client, posting_body):
    response = api_client.post(POSTINGS, posting_body, format="json")
    body = assert_problem(response, 400, "idempotency_key_required")
    assert "Idempotency-Key" in body["errors"]


def test_overlong_key_is_400(platform_urls, api_client, posting_body):
    assert_problem(post(api_client, posting_body, key="x" * 256), 400, "invalid")


def test_business_refusal_is_stored_and_its_writes_roll_back(platform_urls, api_client, posting_body):
    body = {**posting_body, "refuse": True}
    first = post(api_client, body)
    assert_problem(first, 409, "insufficient_points")
    assert not AuditLog.objects.filter(action="test.refused").exists()
    second = post(api_client, body)
    assert_problem(second, 409, "insufficient_points")
    assert second["Idempotent-Replayed"] == "true"


def test_validation_error_is_not_stored(platform_urls, api_client, posting_body):
    bad = post(api_client, {**posting_body, "amount": "1.234"})
    assert_problem(bad, 400, "invalid")
    assert not IdempotencyRecord.objects.exists()
    good = post(api_client, posting_body)  # same key, fixed body
    assert good.status_code == 201
    assert postings() == 1


def test_keys_are_scoped_per_partner(platform_urls, make_api_client, posting_body):
    shop = make_api_client(partner="shop")
    pos = make_api_client(partner="pos")
    assert post(shop, posting_body).status_code == 201
    response = post(pos, posting_body)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert postings() == 2


def test_other_key_of_the_same_partner_replays(platform_urls, make_api_client, posting_body):
    first = make_api_client(partner="shop")
    second = make_api_client(partner="shop")
    assert post(first, posting_body).status_code == 201
    assert post(second, posting_body)["Idempotent-Replayed"] == "true"


def test_a_request_in_progress_is_409_with_retry_after(platform_urls, api_client, posting_body):
    from core.api.idempotency import request_fingerprint  # noqa: F401 - documents the hash used

    post(api_client, posting_body)
    IdempotencyRecord.objects.update(state="in_progress", response_status=None, response_body=None)
    response = post(api_client, posting_body)
    assert_problem(response, 409, "request_in_progress")
    assert response["Retry-After"] == "1"
    assert postings() == 1


def test_an_abandoned_request_is_taken_over(platform_urls, api_client, posting_body, settings):
    settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = 60
    post(api_client, posting_body)
    AuditLog.objects.filter(action="test.posted").delete()  # as if its transaction never committed
    IdempotencyRecord.objects.update(
        state="in_progress",
        response_status=None,
        response_body=None,
        locked_at=timezone.now() - timedelta(seconds=61),
    )
    response = post(api_client, posting_body)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert postings() == 1
    assert post(api_client, posting_body)["Idempotent-Replayed"] == "true"


def test_purge_deletes_only_records_past_retention(platform_urls, api_client, posting_body, settings):
    settings.IDEMPOTENCY_RECORD_TTL_HOURS = 1  # never below 24 hours
    post(api_client, posting_body, key="old")
    post(api_client, posting_body, key="recent")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyRecord.objects.filter(key="recent").update(created_at=timezone.now() - timedelta(hours=23))
    assert idempotency_records_purge(batch_size=1) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_purge_task_records_a_job_run(db):
    from core.models import JobRun
    from core.tasks import idempotency_purge

    assert idempotency_purge() == 0
    assert JobRun.objects.filter(name="core.idempotency_purge", status="succeeded").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_post_exactly_once(platform_urls, make_api_client, posting_body, monkeypatch):
    monkeypatch.setitem(testing_urls.SLOW_POST_SECONDS, "value", 0.3)
    client = make_api_client(partner="shop")
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    results: list[tuple[int, dict, str | None]] = []
    lock = threading.Lock()

    def worker():
        from rest_framework.test import APIClient

        local = APIClient()
        local.credentials(HTTP_AUTHORIZATION=f"Bearer {client.raw_key}")
        barrier.wait()
        try:
            response = post(local, posting_body, key="concurrent")
            with lock:
                results.append((response.status_code, response.json(), response.get("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _, _ in results)
    assert len(results) == threads_n
    assert postings() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    fresh = [r for r in results if r[0] == 201 and r[2] is None]
    assert len(fresh) == 1
    for status, body, _ in results:
        if status == 409:
            assert body["code"] == "request_in_progress"
    # Once finished, everyone gets the stored answer.
    assert post(client, posting_body, key="concurrent")["Idempotent-Replayed"] == "true"


def test_job_runs_purge_keeps_recent_and_running(db):
    from core.models import JobRun
    from core.tasks import job_runs_purge

    old = JobRun.objects.create(name="x", status="succeeded", started_at=timezone.now() - timedelta(days=91))
    stuck = JobRun.objects.create(name="y", status="running", started_at=timezone.now() - timedelta(days=91))
    recent = JobRun.objects.create(name="z", status="failed")
    assert job_runs_purge() == 1
    assert not JobRun.objects.filter(pk=old.pk).exists()
    assert JobRun.objects.filter(pk__in=[stuck.pk, recent.pk]).count() == 2
