"""Bearer API keys: `Authorization: Bearer mh_<prefix>_<secret>`; only a hash is stored.

The same authentication class verifies the optional per-key request signature (X-Signature,
see core.signing), so every endpoint that authenticates a partner also checks signing.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from core import signing
from core.errors import ErrorCode
from core.models import ApiKey

KEY_PREFIX = "mh"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def split_key(raw_key: str) -> tuple[str, str] | None:
    parts = raw_key.split("_")
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class PartnerPrincipal:
    """request.user for API calls: the partner behind the key."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.partner = api_key.partner
        self.scopes = frozenset(api_key.scopes or [])

    def __str__(self) -> str:
        return f"partner:{self.partner.name}"

    @property
    def pk(self):  # for throttles and logging
        return f"key:{self.api_key.pk}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != self.keyword.lower() or not raw_key.strip():
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: Bearer <key>'.", code=ErrorCode.INVALID_API_KEY
            )
        raw_key = raw_key.strip()
        parts = split_key(raw_key)
        if parts is None:
            raise exceptions.AuthenticationFailed("Invalid API key.", code=ErrorCode.INVALID_API_KEY)
        prefix, _secret = parts
        api_key = ApiKey.objects.select_related("partner").filter(prefix=prefix).first()
        if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(raw_key)):
            raise exceptions.AuthenticationFailed("Invalid API key.", code=ErrorCode.INVALID_API_KEY)
        now = timezone.now()
        if api_key.revoked_at is not None and api_key.revoked_at <= now:
            raise exceptions.AuthenticationFailed("This API key is revoked.", code=ErrorCode.API_KEY_REVOKED)
        if api_key.expires_at is not None and api_key.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                "This API key has expired (it was rotated; use the new key).", code=ErrorCode.API_KEY_REVOKED
            )
        if not api_key.partner.is_active:
            raise exceptions.AuthenticationFailed(
                "The partner of this API key is disabled.", code=ErrorCode.API_KEY_REVOKED
            )
        self.check_signature(request, api_key)
        # Record last use at most once a minute per key to keep hot paths write-free.
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        principal = PartnerPrincipal(api_key)
        return principal, api_key

    def check_signature(self, request, api_key: ApiKey) -> None:
        """X-Signature: required when the key says so, verified whenever it is sent."""
        header = request.META.get("HTTP_X_SIGNATURE", "").strip()
        if not header:
            if api_key.require_signature:
                raise exceptions.AuthenticationFailed(
                    "This API key requires signed requests (X-Signature header).",
                    code=ErrorCode.SIGNATURE_REQUIRED,
                )
            return
        secret = api_key.signing_secret
        if not secret:
            raise exceptions.AuthenticationFailed(
                "An X-Signature was sent but this API key has no signing secret.",
                code=ErrorCode.INVALID_SIGNATURE,
            )
        tolerance = int(
            getattr(settings, "API_SIGNATURE_TOLERANCE_SECONDS", signing.DEFAULT_TOLERANCE_SECONDS)
        )
        try:
            signing.verify(secret, header, request.body or b"", tolerance=tolerance)
        except signing.SignatureExpired as exc:
            raise exceptions.AuthenticationFailed(str(exc), code=ErrorCode.SIGNATURE_EXPIRED)
        except signing.SignatureError as exc:
            raise exceptions.AuthenticationFailed(str(exc), code=ErrorCode.INVALID_SIGNATURE)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
