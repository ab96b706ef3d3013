"""Shared fixtures: an API client authenticated as a partner with chosen scopes."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.services import KNOWN_SCOPES, api_key_create


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run only when the database is PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def make_api_client(db):
    def make(scopes: list[str] | None = None, partner: str = "shop") -> APIClient:
        api_key, raw = api_key_create(
            partner_name=partner, scopes=scopes if scopes is not None else KNOWN_SCOPES
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.api_key = api_key
        client.raw_key = raw
        client.partner = api_key.partner
        return client

    return make


@pytest.fixture
def api_client(make_api_client) -> APIClient:
    """A partner client holding every scope."""
    return make_api_client()


# Default data that data migrations create (tier catalogue, earning rules, benefit catalogue).
# Transactional tests flush the database afterwards, so it is restored before each test that
# uses the database and finds it missing.
_DEFAULT_DATA = [
    ("tiers", "Tier", "tiers.migrations.0002_default_catalogue", "forward"),
    ("points", "EarningRule", "points.migrations.0003_default_rules_and_schedule", "create_defaults"),
    ("benefits", "Benefit", "benefits.migrations.0002_default_benefits", "forward"),
]


@pytest.fixture(autouse=True)
def default_data(request):
    if not any(m.name == "django_db" for m in request.node.iter_markers()) and not (
        {"db", "transactional_db", "django_db_setup"} & set(request.fixturenames)
    ):
        return
    request.getfixturevalue("django_db_setup")
    import importlib

    from django.apps import apps

    for app_label, model_name, module, func in _DEFAULT_DATA:
        if not apps.get_model(app_label, model_name).objects.exists():
            getattr(importlib.import_module(module), func)(apps, None)
