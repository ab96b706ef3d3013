"""Per-key rate limit: 429 + Retry-After; atomic counters in cache, database or Redis."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection

from core.api.throttling import rate_limit_hit
from core.models import RateLimitCounter

from .test_auth import assert_problem

pytestmark = pytest.mark.django_db

SCOPED = "/api/v1/_test/scoped"


def limited_client(make_api_client, limit: int, partner: str = "shop"):
    client = make_api_client(scopes=["analytics:read"], partner=partner)
    client.partner.rate_limit_per_minute = limit
    client.partner.save()
    return client


@pytest.mark.parametrize("backend", ["cache", "database"])
def test_limit_per_key_with_retry_after(platform_urls, make_api_client, settings, backend):
    settings.API_RATE_LIMIT_BACKEND = backend
    client = limited_client(make_api_client, 3)
    other = limited_client(make_api_client, 3, partner="pos")
    for i in range(3):
        ok = client.get(SCOPED)
        assert ok.status_code == 200
        assert ok["X-RateLimit-Limit"] == "3" and ok["X-RateLimit-Remaining"] == str(2 - i)
    response = client.get(SCOPED)
    assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert other.get(SCOPED).status_code == 200  # another key has its own budget


def test_zero_means_unlimited(platform_urls, make_api_client):
    client = limited_client(make_api_client, 0)
    for _ in range(5):
        assert client.get(SCOPED).status_code == 200


def test_windows_reset(settings):
    settings.API_RATE_LIMIT_BACKEND = "cache"
    assert rate_limit_hit(bucket="b1", now=120.0)[0] == 1
    assert rate_limit_hit(bucket="b1", now=150.0) == (2, 30.0)
    assert rate_limit_hit(bucket="b1", now=181.0)[0] == 1


def test_database_counter_is_one_row_per_key(settings):
    settings.API_RATE_LIMIT_BACKEND = "database"
    assert rate_limit_hit(bucket="b2", now=120.0)[0] == 1
    assert rate_limit_hit(bucket="b2", now=130.0)[0] == 2
    assert rate_limit_hit(bucket="b2", now=200.0)[0] == 1
    assert RateLimitCounter.objects.get(bucket="rl:b2").n == 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_redis_counter(settings):
    settings.API_RATE_LIMIT_BACKEND = "redis"
    bucket = f"test-{os.getpid()}-{id(settings)}"
    assert rate_limit_hit(bucket=bucket, now=60.0)[0] == 1
    assert rate_limit_hit(bucket=bucket, now=61.0)[0] == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_counter_is_atomic_under_concurrency(settings):
    settings.API_RATE_LIMIT_BACKEND = "database"
    counts: list[int] = []
    lock = threading.Lock()

    def worker():
        try:
            for _ in range(10):
                n = rate_limit_hit(bucket="concurrent", now=1000.0)[0]
                with lock:
                    counts.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == list(range(1, 51))
