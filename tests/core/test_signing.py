"""Optional per-key request signing: X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.db import connection

from core import signing
from core.models import ApiKey
from core.services import api_key_signing_secret_reset, api_key_update

from .test_auth import assert_problem

pytestmark = pytest.mark.django_db

POSTINGS = "/api/v1/_test/postings"
SCOPED = "/api/v1/_test/scoped"


@pytest.fixture
def signed_client(make_api_client):
    client = make_api_client(scopes=["points:write", "analytics:read"])
    client.secret = api_key_signing_secret_reset(api_key=client.api_key, require_signature=True)
    return client


def header_for(secret: str, body: bytes, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def post(client, body: dict, signature: str | None, key: str = "k1"):
    raw = json.dumps(body).encode()
    extra = {"HTTP_IDEMPOTENCY_KEY": key}
    if signature is not None:
        extra["HTTP_X_SIGNATURE"] = signature
    return client.generic("POST", POSTINGS, raw, content_type="application/json", **extra), raw


def test_valid_signature_is_accepted(platform_urls, signed_client, posting_body):
    raw = json.dumps(posting_body).encode()
    response = signed_client.generic(
        "POST",
        POSTINGS,
        raw,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        HTTP_X_SIGNATURE=header_for(signed_client.secret, raw),
    )
    assert response.status_code == 201, response.content
    # A GET signs the empty body.
    assert (
        signed_client.get(SCOPED, HTTP_X_SIGNATURE=header_for(signed_client.secret, b"")).status_code == 200
    )


def test_stale_signature_is_401_signature_expired(platform_urls, signed_client, posting_body):
    raw = json.dumps(posting_body).encode()
    old = int(time.time()) - 301
    response, _ = post(signed_client, posting_body, header_for(signed_client.secret, raw, t=old))
    assert_problem(response, 401, "signature_expired")


def test_signature_from_the_future_is_401_signature_expired(platform_urls, signed_client, posting_body):
    raw = json.dumps(posting_body).encode()
    response, _ = post(
        signed_client, posting_body, header_for(signed_client.secret, raw, t=int(time.time()) + 400)
    )
    assert_problem(response, 401, "signature_expired")


def test_tampered_body_is_401_invalid_signature(platform_urls, signed_client, posting_body):
    signature = header_for(signed_client.secret, json.dumps(posting_body).encode())
    response, _ = post(signed_client, {**posting_body, "amount": "1.00"}, signature)
    assert_problem(response, 401, "invalid_signature")


@pytest.mark.parametrize("value", ["garbage", "t=abc,v1=00", "v1=00", "t=1700000000", "t=1,v1"])
def test_malformed_signature_is_401_invalid_signature(platform_urls, signed_client, posting_body, value):
    response, _ = post(signed_client, posting_body, value)
    assert_problem(response, 401, "invalid_signature")


def test_wrong_secret_is_401_invalid_signature(platform_urls, signed_client, posting_body):
    raw = json.dumps(posting_body).encode()
    response, _ = post(signed_client, posting_body, header_for("another-secret", raw))
    assert_problem(response, 401, "invalid_signature")


def test_missing_signature_when_required_is_401_signature_required(
    platform_urls, signed_client, posting_body
):
    response, _ = post(signed_client, posting_body, None)
    assert_problem(response, 401, "signature_required")


def test_optional_signature_is_checked_when_sent(platform_urls, signed_client, posting_body):
    api_key_update(api_key=signed_client.api_key, require_signature=False)
    response, _ = post(signed_client, posting_body, None)
    assert response.status_code == 201
    response, _ = post(signed_client, posting_body, "t=1,v1=00", key="k2")
    assert_problem(response, 401, "invalid_signature")


def test_signature_without_a_secret_is_refused(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    response = client.get(SCOPED, HTTP_X_SIGNATURE=header_for("x", b""))
    assert_problem(response, 401, "invalid_signature")


def test_signing_secret_is_encrypted_at_rest(signed_client):
    with connection.cursor() as cursor:
        cursor.execute("SELECT signing_secret FROM core_apikey WHERE id = %s", [signed_client.api_key.pk])
        stored = cursor.fetchone()[0]
    assert stored and signed_client.secret not in stored
    assert ApiKey.objects.get(pk=signed_client.api_key.pk).signing_secret == signed_client.secret


def test_require_signature_without_secret_is_impossible(make_api_client):
    from django.db import IntegrityError, transaction

    client = make_api_client(scopes=["analytics:read"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.filter(pk=client.api_key.pk).update(require_signature=True)
    # The service generates a secret when signing becomes required.
    api_key = api_key_update(api_key=client.api_key, require_signature=True)
    assert api_key.signing_secret.startswith("mhsig_")


def test_signing_module_sign_verify_roundtrip():
    body = b'{"a":1}'
    header = signing.sign("s3cret", body, extra_secrets=("old",))
    assert signing.verify("s3cret", header, body) > 0
    assert signing.verify("old", header, body) > 0
    with pytest.raises(signing.SignatureMismatch):
        signing.verify("other", header, body)
