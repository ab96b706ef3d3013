import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from core.models import JobRun

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_health_reports_database_broker_and_migrations(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "migrations"}
    assert body["checks"]["migrations"]["pending"] == 0


@pytest.mark.django_db
def test_health_is_503_when_the_broker_is_down(client, settings, monkeypatch):
    from core.api import views

    monkeypatch.setattr(views, "check_broker", lambda: {"ok": False, "error": "ConnectionError"})
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_member_centre_admin_and_api_docs_answer(client):
    assert client.get("/").status_code == 200
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200


@pytest.mark.django_db
def test_unknown_api_url_is_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_request_id_is_echoed(client):
    response = client.get("/api/v1/health", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


@pytest.mark.django_db
def test_default_beat_schedule_is_created_by_migrations():
    assert PeriodicTask.objects.filter(task="core.heartbeat", enabled=True).exists()


@pytest.mark.django_db
def test_operator_can_log_in_to_admin_by_email(client):
    User = get_user_model()
    User.objects.create_superuser(email="op@example.com", password="S3cure-pass-123")
    assert client.login(username="op@example.com", password="S3cure-pass-123")
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_seed_demo_creates_members_once(settings):
    call_command("seed_demo", members=50, only="members")
    User = get_user_model()
    assert User.objects.filter(is_staff=False).count() == 50
    call_command("seed_demo", members=50, only="members")  # second run: already loaded
    assert User.objects.filter(is_staff=False).count() == 50
    assert JobRun.objects.filter(name="seed_demo", status="succeeded").count() == 1


def test_compose_file_has_the_services_and_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert (ROOT / "Dockerfile").exists()


def test_check_deploy_passes_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 30 + "production-like-secret-key-0123456789",
        "ALLOWED_HOSTS": "members.example.com",
        "FIELD_ENCRYPTION_KEYS": "tRtgfqjZt9gqPR5c0YI0yrD0h9Aj3vqIcq6XlHYbnkE=",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:////tmp/memberhub-deploy-check.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
