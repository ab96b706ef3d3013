"""HMAC request/webhook signatures.

    X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The same scheme signs partner requests (verified by core.api.auth) and our webhook
deliveries (verified by the partner). Several `v1=` values may be present (e.g. while a secret
is being rotated); one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    code = "invalid_signature"


class SignatureMalformed(SignatureError):
    pass


class SignatureMismatch(SignatureError):
    pass


class SignatureExpired(SignatureError):
    code = "signature_expired"


def compute(secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(
    secret: str, body: bytes, *, timestamp: int | None = None, extra_secrets: tuple[str, ...] = ()
) -> str:
    """The X-Signature header value for `body` (one v1 per secret)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    parts = [f"t={t}"] + [f"v1={compute(s, t, body)}" for s in (secret, *extra_secrets) if s]
    return ",".join(parts)


def parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureMalformed("X-Signature must look like t=<unix seconds>,v1=<hex>.")
        if name == "t":
            if not value.isdigit() or len(value) > 12:
                raise SignatureMalformed("X-Signature t= must be unix seconds.")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureMalformed("X-Signature must look like t=<unix seconds>,v1=<hex>.")
    return timestamp, signatures


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a signature header; returns its timestamp or raises a SignatureError."""
    timestamp, signatures = parse(header)
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureMismatch("The X-Signature does not match the request body.")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureExpired(
            f"The X-Signature timestamp is more than {tolerance} seconds away from the server time."
        )
    return timestamp
