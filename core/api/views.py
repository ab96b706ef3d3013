"""Unauthenticated liveness/readiness: database, broker, migrations."""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def check_database() -> dict:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connections[DEFAULT_DB_ALIAS].vendor}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def check_broker() -> dict:
    if settings.REDIS_URL:
        try:
            import redis

            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            client.ping()
            return {"ok": True, "transport": "redis"}
        except Exception as exc:  # noqa: BLE001
            return {"ok": False, "transport": "redis", "error": type(exc).__name__}
    folder = settings.CELERY_BROKER_DIR / "queue"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".health"
        probe.write_text("ok")
        probe.unlink()
        return {"ok": True, "transport": "filesystem"}
    except OSError as exc:
        return {"ok": False, "transport": "filesystem", "error": type(exc).__name__}


def check_migrations() -> dict:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return {"ok": not plan, "pending": len(plan)}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


class HealthApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Liveness and readiness",
        responses={
            200: inline_serializer(
                "Health", {"status": serializers.CharField(), "checks": serializers.DictField()}
            ),
            503: inline_serializer(
                "HealthDown", {"status": serializers.CharField(), "checks": serializers.DictField()}
            ),
        },
        tags=["health"],
    )
    def get(self, request):
        checks = {"database": check_database(), "broker": check_broker()}
        checks["migrations"] = check_migrations() if checks["database"]["ok"] else {"ok": False}
        healthy = all(c["ok"] for c in checks.values())
        return Response(
            {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
        )
