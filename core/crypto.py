"""Encryption at rest for secrets and personal data (signing secrets, ID numbers).

Keys come from `settings.FIELD_ENCRYPTION_KEYS` (Fernet keys, urlsafe base64 of 32 bytes):
the FIRST key encrypts, every key decrypts (MultiFernet), so a key is rotated by putting a
new one in front, running `python manage.py reencrypt_fields`, then dropping the old one.
Without any configured key (local development only; production requires the setting) a key
is derived from SECRET_KEY so that a fresh checkout works.

    from core.crypto import EncryptedTextField, encrypt_str, decrypt_str

    class Document(models.Model):
        id_number = EncryptedTextField(blank=True)

An encrypted column cannot be searched or filtered on (every write produces a new token); keep
a separate keyed hash column next to it when look-ups are needed (see `keyed_hash`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models

logger = logging.getLogger(__name__)

__all__ = [
    "DecryptionError",
    "EncryptedTextField",
    "decrypt_str",
    "encrypt_str",
    "generate_key",
    "keyed_hash",
    "reencrypt_token",
]


class DecryptionError(Exception):
    """A stored token could not be decrypted with any configured key."""


def generate_key() -> str:
    """A new Fernet key for FIELD_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


def _configured_keys() -> list[str]:
    keys = [k.strip() for k in (getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []) if k.strip()]
    if keys:
        return keys
    # Development fallback only: production settings make FIELD_ENCRYPTION_KEYS mandatory.
    derived = hashlib.sha256(b"memberhub-field-encryption:" + settings.SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(derived).decode()]


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in _configured_keys()])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (urlsafe base64 of 32 bytes)."
        ) from exc


def _reset_cache(*, setting: str, **kwargs) -> None:
    if setting in ("FIELD_ENCRYPTION_KEYS", "SECRET_KEY"):
        _fernet.cache_clear()


setting_changed.connect(_reset_cache)


def encrypt_str(value: str) -> str:
    """Encrypt text with the first key; returns an ASCII token."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_str(token: str) -> str:
    """Decrypt a token made by `encrypt_str` with any configured key."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError("cannot decrypt: unknown key or corrupted value") from exc


def reencrypt_token(token: str) -> str:
    """The same plaintext encrypted with the current first key (for key rotation)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError("cannot re-encrypt: unknown key or corrupted value") from exc


def keyed_hash(value: str, *, purpose: str) -> str:
    """A stable HMAC-SHA256 of `value` for equality look-ups next to an encrypted column."""
    key = hashlib.sha256(
        f"memberhub-keyed-hash:{purpose}:".encode() + _configured_keys()[0].encode()
    ).digest()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """Text stored encrypted (Fernet token); Python code sees plaintext.

    Empty string and NULL are stored as they are (nothing to hide, and `blank=True` keeps
    working). Look-ups other than isnull / exact "" are meaningless on the ciphertext.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_str(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(str(value))
