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
