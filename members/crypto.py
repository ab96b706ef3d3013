"""Encryption of members' personal data at rest: text through core.crypto, file bytes here.

Keys are settings.FIELD_ENCRYPTION_KEYS (MultiFernet: the first key encrypts, every key
decrypts). After putting a new key first, `python manage.py members_rotate_keys` re-encrypts
ID numbers, names, documents and ticket attachments with it (and refreshes the keyed hashes).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from core.crypto import DecryptionError, decrypt_str, encrypt_str, keyed_hash, reencrypt_token

__all__ = [
    "DecryptionError",
    "decrypt",
    "decrypt_str",
    "encrypt",
    "encrypt_str",
    "pii_hash",
    "reencrypt_token",
    "rotate",
]


def _multi() -> MultiFernet:
    keys = [k.strip() for k in (getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []) if k.strip()]
    if not keys:  # development fallback, the same derivation as core.crypto
        derived = hashlib.sha256(b"memberhub-field-encryption:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(data: bytes) -> bytes:
    return _multi().encrypt(data)


def decrypt(token: bytes) -> bytes:
    try:
        return _multi().decrypt(token)
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: unknown key or corrupted file") from exc


def rotate(token: bytes) -> bytes:
    try:
        return _multi().rotate(token)
    except InvalidToken as exc:
        raise DecryptionError("cannot re-encrypt: unknown key or corrupted file") from exc


def pii_hash(value: str) -> str:
    """Keyed hash of an ID number, for duplicate checks without decrypting."""
    return keyed_hash(value, purpose="members.id_number")
