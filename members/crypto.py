"""Encryption of personal data at rest (ID numbers, names, documents) with MultiFernet.

settings.FIELD_ENCRYPTION_KEYS lists Fernet keys: the first encrypts, every key decrypts, so
keys rotate by putting a new key first and running `manage.py members_rotate_keys`, which
re-encrypts every stored value with the first key. Without configured keys (a development
machine) one key is derived from SECRET_KEY; production sets FIELD_ENCRYPTION_KEYS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "decrypt_str", "encrypt", "encrypt_str", "pii_hash", "rotate"]


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(b"memberhub-pii:" + settings.SECRET_KEY.encode()).digest())
        keys = (derived.decode(),)
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from exc


def _keys() -> MultiFernet:
    return _fernet(tuple(k for k in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if k))


def encrypt(data: bytes) -> bytes:
    return _keys().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return _keys().decrypt(token)


def rotate(token: bytes) -> bytes:
    """Re-encrypt with the first (current) key."""
    return _keys().rotate(token)


def encrypt_str(value: str) -> str:
    return encrypt(value.encode()).decode() if value else ""


def decrypt_str(token: str) -> str:
    return decrypt(token.encode()).decode() if token else ""


def pii_hash(value: str) -> str:
    """A keyed hash for equality look-ups of encrypted values (e.g. the same ID number twice)."""
    return hmac.new(settings.SECRET_KEY.encode(), b"pii:" + value.encode(), hashlib.sha256).hexdigest()
