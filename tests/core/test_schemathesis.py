"""Property-based run of schemathesis over the whole published schema.

Every operation in /api/v1/schema/ (whatever the apps have added) is called with generated
data through the Django WSGI app, authenticated with an all-scopes key; responses must not be
5xx and must match the schema (status code, content type, headers, body). Runs in the normal
test suite with a few examples per operation.
"""

from __future__ import annotations

import contextlib

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 8


@contextlib.contextmanager
def connections_kept_open():
    """Like Django's test client: the WSGI app must not close the test's DB connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def run_schemathesis(make_api_client, path_prefix: str = "/api/v1/") -> tuple[int, list[str]]:
    with connections_kept_open():
        return _run(make_api_client, path_prefix)


def _run(make_api_client, path_prefix: str) -> tuple[int, list[str]]:
    client = make_api_client(partner="schemathesis")
    client.partner.rate_limit_per_minute = 0  # unlimited: the run makes many calls
    client.partner.save()
    headers = {"Authorization": f"Bearer {client.raw_key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", WSGIHandler())
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(path_prefix) and not operation.full_path.startswith(path_prefix):
            continue
        count += 1

        @seed(20261123)
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.headers = {**(case.headers or {}), **headers}
            response = case.call()
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except BaseException as exc:  # noqa: BLE001 - collect every operation's failure (exception groups)
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return count, failures


def test_every_operation_conforms_to_the_schema(make_api_client):
    count, failures = run_schemathesis(make_api_client)
    assert count >= 1
    assert not failures, "\n\n".join(failures)


def test_platform_operations_conform_to_the_schema(platform_urls, make_api_client):
    """Idempotent POST with money/currency/points fields, a cursor-paginated list, scopes."""
    count, failures = run_schemathesis(make_api_client, path_prefix="/api/v1/_test/")
    assert count == 3
    assert not failures, "\n\n".join(failures)
