"""Fixtures for the partner API platform tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def platform_urls(settings):
    """The project's URLs plus test-only platform views under /api/v1/_test/."""
    settings.ROOT_URLCONF = "tests.core.testing_urls"
    return settings


@pytest.fixture
def crash_urls(settings):
    """platform_urls plus views that raise unexpected exceptions."""
    settings.ROOT_URLCONF = "tests.core.crash_urls"
    settings.DEBUG = False
    return settings


@pytest.fixture
def posting_body():
    return {"amount": "199.00", "currency": "CNY", "points": 10}
