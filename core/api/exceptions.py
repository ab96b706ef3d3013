"""One place that turns every error into application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler  # noqa: F401
from rest_framework.views import set_rollback

from core.errors import ApplicationError, ErrorCode, RateLimited

logger = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://memberhub.dev/problems/"

_DRF_CODES: dict[type, tuple[str, str]] = {
    drf_exceptions.NotAuthenticated: (ErrorCode.NOT_AUTHENTICATED, "Not authenticated"),
    drf_exceptions.AuthenticationFailed: (ErrorCode.INVALID_API_KEY, "Authentication failed"),
    drf_exceptions.PermissionDenied: (ErrorCode.PERMISSION_DENIED, "Permission denied"),
    drf_exceptions.NotFound: (ErrorCode.NOT_FOUND, "Not found"),
    drf_exceptions.MethodNotAllowed: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed"),
    drf_exceptions.NotAcceptable: (ErrorCode.NOT_ACCEPTABLE, "Not acceptable"),
    drf_exceptions.UnsupportedMediaType: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    drf_exceptions.Throttled: (ErrorCode.RATE_LIMITED, "Too many requests"),
    drf_exceptions.ParseError: (ErrorCode.INVALID, "Malformed request"),
    drf_exceptions.ValidationError: (ErrorCode.INVALID, "Validation failed"),
}


def problem_body(
    status: int, code: str, title: str, detail: str, errors: dict | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + str(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": str(code),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    status: int, code: str, title: str, detail: str, errors: dict | None = None, **extra: Any
) -> JsonResponse:
    response = JsonResponse(
        problem_body(status, code, title, detail, errors, **extra),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    return response


def _flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → {"field" or "items.0.sku": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key in ("non_field_errors", "__all__") and not prefix else key
            sub = f"{prefix}.{name}" if prefix else str(name)
            out.update(_flatten_errors(value, sub))
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            out[prefix or "non_field_errors"] = [str(v) for v in detail]
        else:
            for i, value in enumerate(detail):
                if value:
                    out.update(_flatten_errors(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _convert(exc: Exception) -> tuple[int, str, str, str, dict | None, dict[str, str], dict]:
    """(status, code, title, detail, errors, headers, extra)"""
    if isinstance(exc, ApplicationError):
        headers = dict(getattr(exc, "headers", None) or {})
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return exc.status, exc.code, type(exc).title, exc.message, exc.errors or None, headers, exc.extra
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            errors = {"non_field_errors": [str(m) for m in exc.messages]}
        return 400, ErrorCode.INVALID, "Validation failed", "The request has invalid fields.", errors, {}, {}
    if isinstance(exc, Http404):
        return 404, ErrorCode.NOT_FOUND, "Not found", str(exc) or "Not found.", None, {}, {}
    if isinstance(exc, DjangoPermissionDenied):
        return (
            403,
            ErrorCode.PERMISSION_DENIED,
            "Permission denied",
            str(exc) or "Permission denied.",
            None,
            {},
            {},
        )
    if isinstance(exc, RequestDataTooBig):
        return (
            413,
            ErrorCode.PAYLOAD_TOO_LARGE,
            "Payload too large",
            "The request body is too large.",
            None,
            {},
            {},
        )
    if isinstance(exc, drf_exceptions.APIException):
        code, title = ErrorCode.SERVER_ERROR, "Error"
        for klass in type(exc).__mro__:
            if klass in _DRF_CODES:
                code, title = _DRF_CODES[klass]
                break
        headers = {}
        if isinstance(exc, drf_exceptions.Throttled):
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
        if isinstance(exc, drf_exceptions.ValidationError):
            return (
                400,
                code,
                title,
                "The request has invalid fields.",
                _flatten_errors(exc.detail),
                headers,
                {},
            )
        detail = exc.detail
        # An APIException may carry its own stable code (e.g. auth raising with code=...).
        if (
            isinstance(detail, str)
            and getattr(detail, "code", None)
            and detail.code
            not in (
                "error",
                "invalid",
                "not_authenticated",
                "authentication_failed",
                "permission_denied",
                "not_found",
                "method_not_allowed",
                "throttled",
                "parse_error",
                "unsupported_media_type",
                "not_acceptable",
            )
        ):
            code = detail.code
        return exc.status_code, code, title, str(detail), None, headers, {}
    return 500, ErrorCode.SERVER_ERROR, "Server error", "An unexpected error occurred.", None, {}, {}


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    status, code, title, detail, errors, headers, extra = _convert(exc)
    set_rollback()
    if status >= 500:
        logger.exception("Unhandled API error", exc_info=exc)
    response = Response(
        problem_body(status, code, title, detail, errors, **extra),
        status=status,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    # DRF's auth failures want WWW-Authenticate on 401.
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def problem_response_for_exception(exc: Exception, request: HttpRequest | None = None) -> JsonResponse:
    status, code, title, detail, errors, headers, extra = _convert(exc)
    if status >= 500:
        logger.exception("Unhandled API error", exc_info=exc)
    response = problem_response(status, code, title, detail, errors, **extra)
    for key, value in headers.items():
        response[key] = value
    return response
