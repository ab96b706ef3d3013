"""Application errors with stable machine codes.

Services raise these; one exception handler turns them into application/problem+json for the
API (core.api.exceptions) and pages turn them into form errors or messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # generic
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    RATE_LIMITED = "rate_limited"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_ACCEPTABLE = "not_acceptable"
    SERVER_ERROR = "server_error"
    # API platform
    INVALID_API_KEY = "invalid_api_key"
    API_KEY_REVOKED = "api_key_revoked"
    MISSING_SCOPE = "missing_scope"
    INVALID_SIGNATURE = "invalid_signature"
    SIGNATURE_EXPIRED = "signature_expired"
    SIGNATURE_REQUIRED = "signature_required"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    REQUEST_IN_PROGRESS = "request_in_progress"
    # members
    MEMBER_NOT_FOUND = "member_not_found"
    MEMBER_EXISTS = "member_exists"
    MEMBER_FROZEN = "member_frozen"
    MEMBER_CLOSED = "member_closed"
    # points
    INSUFFICIENT_POINTS = "insufficient_points"
    HOLD_NOT_ACTIVE = "hold_not_active"
    ORDER_NOT_FOUND = "order_not_found"
    OUT_OF_STOCK = "out_of_stock"
    LIMIT_REACHED = "limit_reached"
    APPROVAL_REQUIRED = "approval_required"
    # benefits
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_NOT_APPLICABLE = "coupon_not_applicable"
    COUPON_ALREADY_REDEEMED = "coupon_already_redeemed"
    COUPON_EXPIRED = "coupon_expired"


class ApplicationError(Exception):
    """A business rule refused the operation. Nothing was changed."""

    status = 400
    default_code = ErrorCode.INVALID
    title = "Invalid request"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        self.code = str(code or self.default_code)
        self.errors = errors or {}
        if status is not None:
            self.status = status
        self.extra = extra or {}


class NotFound(ApplicationError):
    status = 404
    default_code = ErrorCode.NOT_FOUND
    title = "Not found"


class Conflict(ApplicationError):
    status = 409
    default_code = ErrorCode.CONFLICT
    title = "Conflict"


class Forbidden(ApplicationError):
    status = 403
    default_code = ErrorCode.PERMISSION_DENIED
    title = "Permission denied"


class Unauthenticated(ApplicationError):
    status = 401
    default_code = ErrorCode.NOT_AUTHENTICATED
    title = "Not authenticated"


class RateLimited(ApplicationError):
    status = 429
    default_code = ErrorCode.RATE_LIMITED
    title = "Too many requests"

    def __init__(self, message: str = "", *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
