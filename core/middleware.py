"""Request id + one log line per request; problem+json for errors under /api/."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

from .logging import request_id_var

logger = logging.getLogger("memberhub.request")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes X-Request-ID from the caller (or makes one), echoes it, and logs the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            if request.path.startswith("/api/"):
                response = ensure_problem_response(request, response)
                rate_limit = getattr(request, "rate_limit", None)
                if rate_limit is not None:
                    limit, remaining, reset = rate_limit
                    response["X-RateLimit-Limit"] = str(limit)
                    response["X-RateLimit-Remaining"] = str(remaining)
                    response["X-RateLimit-Reset"] = str(reset)
            response["X-Request-ID"] = request_id
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.get_full_path(),
                response.status_code,
                elapsed_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed_ms, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def ensure_problem_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Last line of defence: no HTML error page reaches a partner under /api/.

    Errors that Django renders itself before or around the views (400 for a bad Host, 403 for
    CSRF, DEBUG's technical 404/500 pages) come back as HTML; turn them into problem+json.
    """
    if response.status_code < 400:
        return response
    content_type = response.get("Content-Type", "")
    if "json" in content_type:
        return response
    from .api.exceptions import problem_response
    from .errors import ErrorCode

    status = response.status_code
    codes = {
        400: (ErrorCode.INVALID, "Bad request"),
        401: (ErrorCode.NOT_AUTHENTICATED, "Not authenticated"),
        403: (ErrorCode.PERMISSION_DENIED, "Permission denied"),
        404: (ErrorCode.NOT_FOUND, "Not found"),
        405: (ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed"),
        413: (ErrorCode.PAYLOAD_TOO_LARGE, "Payload too large"),
        415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
        429: (ErrorCode.RATE_LIMITED, "Too many requests"),
    }
    code, title = codes.get(status, (ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.INVALID, "Error"))
    replacement = problem_response(status, code, title, f"The request failed with status {status}.")
    for header in ("Retry-After", "Allow", "WWW-Authenticate"):
        if header in response:
            replacement[header] = response[header]
    return replacement


class ApiErrorMiddleware:
    """Errors raised outside DRF views under /api/ (unknown URL, crash) become problem+json.

    It also reads the body of API requests up front, so a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 problem before any view, and signature checks and
    idempotency fingerprints see the same bytes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS"):
            from django.core.exceptions import RequestDataTooBig

            try:
                request.body  # noqa: B018 - reads and caches the body, enforcing the size limit
            except RequestDataTooBig as exc:
                from .api.exceptions import problem_response_for_exception

                return problem_response_for_exception(exc, request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not request.path.startswith("/api/"):
            return None
        from .api.exceptions import problem_response_for_exception

        return problem_response_for_exception(exception, request)
