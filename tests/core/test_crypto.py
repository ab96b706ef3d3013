"""core.crypto: MultiFernet with key rotation, EncryptedTextField, re-encryption command."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from core.crypto import DecryptionError, decrypt_str, encrypt_str, keyed_hash, reencrypt_token
from core.models import ApiKey
from core.services import api_key_create

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_roundtrip_and_randomised_tokens(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    a, b = encrypt_str("110101199003071234"), encrypt_str("110101199003071234")
    assert a != b and "1101" not in a
    assert decrypt_str(a) == "110101199003071234"


def test_rotation_first_key_encrypts_all_keys_decrypt(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = encrypt_str("secret")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert decrypt_str(token) == "secret"
    rotated = reencrypt_token(token)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert decrypt_str(rotated) == "secret"
    with pytest.raises(DecryptionError):
        decrypt_str(token)


def test_keyed_hash_is_stable_and_purpose_bound(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    assert keyed_hash("x", purpose="id") == keyed_hash("x", purpose="id")
    assert keyed_hash("x", purpose="id") != keyed_hash("x", purpose="phone")


def test_without_configured_keys_a_development_key_is_derived(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    assert decrypt_str(encrypt_str("dev")) == "dev"


@pytest.mark.django_db
def test_encrypted_field_and_reencrypt_command(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    api_key, _ = api_key_create(partner_name="shop", scopes=[], require_signature=True)
    secret = api_key.signing_secret

    def stored() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT signing_secret FROM core_apikey WHERE id = %s", [api_key.pk])
            return cursor.fetchone()[0]

    before = stored()
    assert secret not in before
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    out = StringIO()
    call_command("reencrypt_fields", stdout=out)
    assert "core.ApiKey: 1 row(s)" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert stored() != before
    assert ApiKey.objects.get(pk=api_key.pk).signing_secret == secret
