"""Per-key rate limit: Partner.rate_limit_per_minute requests per fixed one-minute window.

The counter is incremented atomically in one of three stores
(settings.API_RATE_LIMIT_BACKEND, default "auto"):

- "redis"    INCR + EXPIRE in a MULTI on settings.REDIS_URL: exact across every process.
- "cache"    Django's cache: `add` then `incr` (atomic in LocMem within a process and in
             Redis/Memcached across processes). Used by "auto" when REDIS_URL is unset; right
             for the embedded setup (one web process) and for tests.
- "database" one upsert statement on core.RateLimitCounter (INSERT ... ON CONFLICT DO UPDATE
             SET n = n + 1 ... RETURNING n, PostgreSQL and SQLite >= 3.35): exact across
             processes without Redis, at the price of a write per request.

A partner whose limit is 0 is not limited. A failure of the counter store lets the request
through (fail open) and is logged: the limit protects capacity, it is not an authorisation.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .auth import PartnerPrincipal

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
_redis_client = None


def _backend() -> str:
    name = getattr(settings, "API_RATE_LIMIT_BACKEND", "auto")
    if name == "auto":
        return "redis" if getattr(settings, "REDIS_URL", "") else "cache"
    return name


def _redis():
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    return _redis_client


def _count_redis(key: str) -> int:
    pipe = _redis().pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    count, _ = pipe.execute()
    return int(count)


def _count_cache(key: str) -> int:
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1


def _count_database(key: str, window: int) -> int:
    from django.db import connection

    from core.models import RateLimitCounter

    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (bucket, window_start, n) VALUES (%s, %s, 1) "  # noqa: S608 - table name from the model
            "ON CONFLICT (bucket) DO UPDATE SET "
            f"n = CASE WHEN {table}.window_start = excluded.window_start THEN {table}.n + 1 ELSE 1 END, "
            "window_start = excluded.window_start RETURNING n",
            [key, window],
        )
        return int(cursor.fetchone()[0])


def rate_limit_hit(*, bucket: str, now: float | None = None) -> tuple[int, float]:
    """Count one request in `bucket`'s current window; returns (count, seconds left in window)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    remaining = (window + 1) * WINDOW_SECONDS - now
    key = f"rl:{bucket}:{window}"
    backend = _backend()
    if backend == "redis":
        count = _count_redis(f"memberhub:{key}")
    elif backend == "database":
        count = _count_database(f"rl:{bucket}", window)
    else:
        count = _count_cache(key)
    return count, remaining


class ApiKeyRateThrottle(BaseThrottle):
    """DRF throttle: 429 with Retry-After once a key exceeds its partner's per-minute limit."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        principal = getattr(request, "user", None)
        if not isinstance(principal, PartnerPrincipal):
            return True
        limit = principal.partner.rate_limit_per_minute
        if not limit:
            return True
        try:
            count, remaining = rate_limit_hit(bucket=principal.api_key.prefix)
        except Exception:  # noqa: BLE001 - fail open, see module docstring
            logger.warning("rate limit store unavailable; request allowed", exc_info=True)
            return True
        # Read by core.middleware to add X-RateLimit-* headers to the response.
        request._request.rate_limit = (limit, max(0, limit - count), max(1, math.ceil(remaining)))
        if count > limit:
            self._wait = max(1, math.ceil(remaining))
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
