"""Idempotency-Key for POSTs that create or move value.

    class HoldCreateApi(APIView):
        @idempotent(required=True)
        def post(self, request, member): ...

How it works (scoped per partner: two partners may use the same key):

1. The first request with a key claims it: an in-progress record is inserted and committed
   at once; the unique (partner, key) constraint makes a concurrent duplicate lose.
2. The view runs inside a transaction together with the final write of the record (status +
   body, state done). Either both commit or neither does, so a crash never leaves a posting
   without its stored response, nor a stored response without its posting.
3. A replay with the same method, path and body gets the stored status and body with
   `Idempotent-Replayed: true`; a different request under the same key is 409
   `idempotency_key_reused`; a duplicate arriving while the first still runs is 409
   `request_in_progress` (with Retry-After) — it never runs the view a second time.
4. Business refusals (ApplicationError, e.g. 409 insufficient_points) are final and stored.
   Validation errors, unexpected exceptions and 5xx are not stored: the record is dropped so
   that the client may fix the request or retry with the same key.
5. A record left in progress by a process that died is taken over after
   IDEMPOTENCY_LOCK_TIMEOUT_SECONDS (default 120). Ownership is checked when the response is
   stored: if a slow original and a taker-over race, the loser's transaction rolls back, so
   the operation still happens exactly once.

Records are kept at least 24 hours (IDEMPOTENCY_RECORD_TTL_HOURS) and purged by the
`core.idempotency_purge` job.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from core.errors import ApplicationError, Conflict, ErrorCode
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


class _LostOwnership(Exception):
    """Another request took over this key while we ran: roll our work back."""


def lock_timeout() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", 120)))


def request_fingerprint(request) -> str:
    body = request.body or b""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(canonical)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    if record.response_status and record.response_status >= 400:
        response.content_type = "application/problem+json"
    return response


def _validate_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(
            "Idempotency-Key is too long.", errors={HEADER: [f"At most {MAX_KEY_LENGTH} characters."]}
        )
    if not key.isascii() or not key.isprintable():
        raise ApplicationError(
            "Idempotency-Key must be printable ASCII.", errors={HEADER: ["Use printable ASCII characters."]}
        )


def _claim(partner, key: str, request, fingerprint: str) -> tuple[IdempotencyRecord | None, Response | None]:
    """Insert (or take over) the record for this key; or answer from / refuse because of it."""
    token = secrets.token_hex(16)
    now = timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                partner=partner,
                key=key,
                method=request.method,
                path=request.path[:500],
                request_hash=fingerprint,
                lock_token=token,
                locked_at=now,
            )
        return record, None
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
    if existing is None:  # dropped (validation error / 5xx) between our insert and read
        raise _in_progress()
    if existing.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    if existing.state == IdempotencyRecord.State.DONE:
        return None, _replay(existing)
    # In progress: take it over only if its owner has been silent for too long.
    taken = IdempotencyRecord.objects.filter(
        pk=existing.pk,
        state=IdempotencyRecord.State.IN_PROGRESS,
        lock_token=existing.lock_token,
        locked_at__lt=now - lock_timeout(),
    ).update(lock_token=token, locked_at=now)
    if taken:
        existing.lock_token = token
        existing.locked_at = now
        return existing, None
    raise _in_progress()


def _in_progress() -> Conflict:
    exc = Conflict(
        "A request with this Idempotency-Key is still in progress; retry shortly.",
        code=ErrorCode.REQUEST_IN_PROGRESS,
    )
    exc.headers = {"Retry-After": "1"}
    return exc


def _jsonable(data):
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def idempotent(required: bool = False) -> Callable:
    """Decorate an APIView method (post). `required=True`: no key → 400 idempotency_key_required."""

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
            _validate_key(key)
            partner = getattr(request.user, "partner", None)
            if partner is None:
                raise NotAuthenticated()
            record, replay = _claim(partner, key, request, request_fingerprint(request))
            if replay is not None:
                return replay
            assert record is not None
            try:
                with transaction.atomic():
                    # An ApplicationError raised here rolls the view's writes back; it is
                    # stored below as the final answer for this key.
                    response = method(view, request, *args, **kwargs)
                    if response.status_code >= 400:
                        # A refusal the view returned itself: its writes roll back too.
                        raise _StoredRefusal(response)
                    _store(record, response)
                return response
            except _StoredRefusal as refusal:
                response = refusal.response
                if response.status_code >= 500:
                    _release(record)
                    return response
                _store_outside(record, response)
                return response
            except ApplicationError as exc:
                response = view.handle_exception(exc)
                _store_outside(record, response)
                return response
            except _LostOwnership:
                raise _in_progress()
            except BaseException:
                _release(record)
                raise

        wrapper.idempotency = {"required": required}
        return wrapper

    return decorator


class _StoredRefusal(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _store(record: IdempotencyRecord, response: Response) -> None:
    stored = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, lock_token=record.lock_token
    ).update(
        state=IdempotencyRecord.State.DONE,
        response_status=response.status_code,
        response_body=_jsonable(response.data),
    )
    if not stored:
        raise _LostOwnership()


def _store_outside(record: IdempotencyRecord, response: Response) -> None:
    with transaction.atomic():
        try:
            _store(record, response)
        except _LostOwnership:
            pass  # the taker-over answers; ours is a refusal with nothing written


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, lock_token=record.lock_token
    ).delete()
