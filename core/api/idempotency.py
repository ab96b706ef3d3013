"""Idempotency-Key for POSTs that create or move value.

The first request with a key inserts an in-progress record in its own transaction (the
unique constraint makes concurrent duplicates lose), runs the view, then stores the status
and body. A replay with the same body gets the stored response with `Idempotent-Replayed:
true`; a different body with the same key is 409 `idempotency_key_reused`; a duplicate that
arrives while the first is still running is 409 `request_in_progress`. A 5xx outcome drops
the record so that the client may retry.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework.response import Response

from core.errors import ApplicationError, Conflict, ErrorCode
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request) -> str:
    body = request.body or b""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(canonical)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    if record.response_status and record.response_status >= 400:
        response.content_type = "application/problem+json"
    return response


def idempotent(required: bool = False) -> Callable:
    """Decorate an APIView method (post)."""

    def decorator(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER, "").strip()
            if not key:
                if required:
                    raise ApplicationError(
                        "This request needs an Idempotency-Key header.",
                        code=ErrorCode.IDEMPOTENCY_KEY_REQUIRED,
                        errors={HEADER: ["This header is required."]},
                    )
                return method(view, request, *args, **kwargs)
            if len(key) > MAX_KEY_LENGTH:
                raise ApplicationError(
                    "Idempotency-Key is too long.", errors={HEADER: [f"At most {MAX_KEY_LENGTH} characters."]}
                )
            partner = request.user.partner
            fingerprint = request_fingerprint(request)
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        partner=partner,
                        key=key,
                        method=request.method,
                        path=request.path[:500],
                        request_hash=fingerprint,
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
                if existing is None:  # dropped after a 5xx between our insert and read
                    raise Conflict(
                        "A request with this Idempotency-Key is in progress; retry.",
                        code=ErrorCode.REQUEST_IN_PROGRESS,
                    )
                if existing.request_hash != fingerprint:
                    raise Conflict(
                        "This Idempotency-Key was used with a different request.",
                        code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    )
                if existing.state != IdempotencyRecord.State.DONE:
                    raise Conflict(
                        "A request with this Idempotency-Key is still in progress.",
                        code=ErrorCode.REQUEST_IN_PROGRESS,
                    )
                return _replay(existing)
            try:
                response = method(view, request, *args, **kwargs)
            except ApplicationError as exc:
                response = view.handle_exception(exc)
                view.finalize_response(request, response)
                # Business refusals are final for this key: store them like successes.
            except Exception:
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                raise
            if response.status_code >= 500:
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                return response
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                state=IdempotencyRecord.State.DONE,
                response_status=response.status_code,
                response_body=json.loads(json.dumps(response.data, default=str)),
            )
            return response

        return wrapper

    return decorator
