"""Webhooks: endpoints, fan-out of outbox events into deliveries, signed delivery with retries.

Flow: a service calls `outbox_emit(...)` in its transaction → after commit the task
`core.webhooks_dispatch_event` fans the event out (one WebhookDelivery per subscribed active
endpoint) → `core.webhooks_deliver` POSTs each delivery. The beat task `core.webhooks_sweep`
(every minute) redoes whatever a lost enqueue (broker down at commit, worker killed) left
behind, so nothing is lost and nothing is sent twice at the same time.

Sending uses a short lease instead of holding a row lock during the HTTP call: the delivery
row is locked with `select_for_update(skip_locked=True)`, its `next_attempt_at` is pushed
past the lease and committed, then the POST runs with no transaction open, then the outcome
is written. A second worker that picks up the same delivery finds it locked or not due and
does nothing. If the sender dies mid-call, the lease expires and the sweep retries it; the
receiver de-duplicates by event `id`.

Retries: after a failed try the next one is `WEBHOOK_RETRY_BASE_SECONDS` (30) · 2^(n-1),
capped at `WEBHOOK_RETRY_MAX_DELAY_SECONDS` (6 h). A delivery keeps being retried until it is
`WEBHOOK_RETRY_MAX_AGE_SECONDS` (26 h, at least the 24 h of API.md) old, then is marked dead.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import signing
from .errors import ApplicationError
from .lock_objects import (
    outbox_event_lock,
    webhook_delivery_lock,
    webhook_delivery_lock_sendable,
    webhook_endpoint_lock,
)
from .models import OutboxEvent, Partner, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .outbox import WEBHOOK_EVENT_TYPES

logger = logging.getLogger(__name__)

USER_AGENT = "Memberhub-Webhooks/1.0"
EXCERPT_CHARS = 1000
ALL_EVENTS = "*"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed try: base·2^(attempts-1), capped."""
    base = int(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    cap = int(_setting("WEBHOOK_RETRY_MAX_DELAY_SECONDS", 6 * 60 * 60))
    exponent = min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(cap, base * (2**exponent)))


def max_age() -> timedelta:
    return timedelta(seconds=int(_setting("WEBHOOK_RETRY_MAX_AGE_SECONDS", 26 * 60 * 60)))


def lease() -> timedelta:
    # Longer than the HTTP timeout, so a live sender is never overtaken.
    return timedelta(seconds=int(_setting("WEBHOOK_TIMEOUT_SECONDS", 10)) * 3 + 30)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- endpoints ------------------------------------------------------------------------------


def _validate_endpoint(url: str, event_types: list[str]) -> tuple[str, list[str]]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = ["Enter a valid http(s) URL."]
    types = list(dict.fromkeys(event_types or []))
    unknown = [t for t in types if t not in WEBHOOK_EVENT_TYPES and t != ALL_EVENTS]
    if not types:
        errors["event_types"] = ["Choose at least one event type."]
    elif unknown:
        errors["event_types"] = [f"Unknown event type(s): {', '.join(unknown)}."]
    if errors:
        raise ApplicationError("The webhook endpoint is invalid.", errors=errors)
    return url, types


def _endpoint_snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "partner": endpoint.partner.name,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "is_active": endpoint.is_active,
        "description": endpoint.description,
    }


def _audit(action: str, endpoint: WebhookEndpoint, *, before=None, after=None, actor=None, request=None):
    from .services import _actor_fields, audit_log_record

    audit_log_record(
        action=action, target=endpoint, before=before, after=after, request=request, **_actor_fields(actor)
    )


def webhook_endpoint_create(
    *,
    partner: Partner,
    url: str,
    event_types: list[str],
    description: str = "",
    is_active: bool = True,
    actor: Any = None,
    request: Any = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown once)."""
    url, types = _validate_endpoint(url, event_types)
    secret = new_webhook_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            partner=partner,
            url=url,
            event_types=types,
            description=description,
            is_active=is_active,
            secret=secret,
        )
        _audit(
            "webhook_endpoint.created",
            endpoint,
            after=_endpoint_snapshot(endpoint),
            actor=actor,
            request=request,
        )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    actor: Any = None,
    request: Any = None,
) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = webhook_endpoint_lock(endpoint.pk)
        before = _endpoint_snapshot(endpoint)
        new_url, new_types = _validate_endpoint(
            endpoint.url if url is None else url, endpoint.event_types if event_types is None else event_types
        )
        endpoint.url, endpoint.event_types = new_url, new_types
        if description is not None:
            endpoint.description = description
        if is_active is not None:
            endpoint.is_active = is_active
        endpoint.updated_at = timezone.now()
        endpoint.save(update_fields=["url", "event_types", "description", "is_active", "updated_at"])
        after = _endpoint_snapshot(endpoint)
        if after != before:
            _audit(
                "webhook_endpoint.updated", endpoint, before=before, after=after, actor=actor, request=request
            )
    return endpoint


def webhook_endpoint_secret_rotate(
    *, endpoint: WebhookEndpoint, actor: Any = None, request: Any = None
) -> str:
    """A new signing secret; returns it (shown once).

    For WEBHOOK_SECRET_ROTATION_GRACE_HOURS (24) deliveries carry two `v1=` signatures, one
    with the new and one with the old secret, so the receiver can switch at its own pace.
    """
    with transaction.atomic():
        endpoint = webhook_endpoint_lock(endpoint.pk)
        secret = new_webhook_secret()
        now = timezone.now()
        grace = timedelta(hours=float(_setting("WEBHOOK_SECRET_ROTATION_GRACE_HOURS", 24)))
        endpoint.previous_secret = endpoint.secret if grace > timedelta(0) else ""
        endpoint.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
        endpoint.secret = secret
        endpoint.updated_at = now
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
        _audit("webhook_endpoint.secret_rotated", endpoint, actor=actor, request=request)
    return secret


# --- fan-out --------------------------------------------------------------------------------


def _subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    types = endpoint.event_types or []
    return event_type in types or ALL_EVENTS in types


def webhooks_dispatch_event(*, event_pk: int) -> list[int]:
    """Create the deliveries of one outbox event (once); returns the new delivery ids."""
    now = timezone.now()
    with transaction.atomic():
        event = outbox_event_lock(event_pk)
        if event is None or event.dispatched_at is not None:
            return []
        endpoints = WebhookEndpoint.objects.filter(is_active=True)
        if event.partner_id is not None:
            endpoints = endpoints.filter(partner_id=event.partner_id)
        targets = [e for e in endpoints.only("id", "event_types") if _subscribed(e, event.type)]
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    event=event, endpoint=e, next_attempt_at=now, created_at=now, retry_until=now + max_age()
                )
                for e in targets
            ],
            ignore_conflicts=True,
        )
        OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=now)
        delivery_ids = list(
            WebhookDelivery.objects.filter(event=event, status=WebhookDelivery.Status.PENDING).values_list(
                "pk", flat=True
            )
        )
        _enqueue_deliveries_on_commit(delivery_ids)
    return delivery_ids


def _enqueue_deliveries_on_commit(delivery_ids: list[int], countdown: float | None = None) -> None:
    if not delivery_ids:
        return

    def enqueue_rollback_unsafe() -> None:
        # A broker outage leaves the deliveries due in the database; the sweep sends them.
        try:
            from .tasks import webhooks_deliver

            for pk in delivery_ids:
                webhooks_deliver.apply_async(args=[pk], countdown=countdown)
        except Exception:  # noqa: BLE001
            logger.warning("could not enqueue webhook deliveries %s", delivery_ids[:10])

    transaction.on_commit(enqueue_rollback_unsafe)


# --- sending --------------------------------------------------------------------------------


def webhook_payload(event: OutboxEvent) -> bytes:
    body = {
        "id": event.public_id,
        "type": event.type,
        "created_at": timezone.localtime(event.created_at).isoformat(),
        "data": event.data,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class HttpOutcome:
    status_code: int | None
    excerpt: str
    error: str
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is a failed delivery: receivers must answer at the URL given


def _opener() -> urllib.request.OpenerDirector:
    handlers: list[Any] = [_NoRedirect()]
    if not _setting("WEBHOOK_USE_ENV_PROXY", True):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpOutcome:
    """POST and report; never raises for network or HTTP errors."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only, validated
    started = time.monotonic()
    status: int | None = None
    excerpt = ""
    error = ""
    try:
        with _opener().open(request, timeout=timeout) as response:
            status = response.status
            excerpt = response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS]
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            excerpt = exc.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS]
        except Exception:  # noqa: BLE001
            excerpt = ""
        finally:
            exc.close()
    except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, TLS, bad URL
        error = f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS]
    latency_ms = int((time.monotonic() - started) * 1000)
    return HttpOutcome(status_code=status, excerpt=excerpt, error=error, latency_ms=latency_ms)


def _previous_secrets(endpoint: WebhookEndpoint) -> tuple[str, ...]:
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        return (endpoint.previous_secret,)
    return ()


def _claim_delivery(delivery_pk: int, *, force: bool = False) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = webhook_delivery_lock_sendable(delivery_pk, due_before=None if force else now)
        if delivery is None:
            return None
        delivery.next_attempt_at = now + lease()
        delivery.save(update_fields=["next_attempt_at"])
    return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)


def webhook_delivery_attempt(*, delivery_pk: int) -> WebhookAttempt | None:
    """Try one delivery if it is due and nobody else is sending it; records the attempt."""
    delivery = _claim_delivery(delivery_pk)
    if delivery is None:
        return None
    endpoint, event = delivery.endpoint, delivery.event
    body = webhook_payload(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.sign(endpoint.secret, body, extra_secrets=_previous_secrets(endpoint)),
        "X-Webhook-Id": event.public_id,
        "X-Webhook-Type": event.type,
        "X-Webhook-Attempt": str(delivery.attempts + 1),
    }
    if endpoint.is_active:
        outcome = http_post(
            endpoint.url, body, headers, timeout=float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10))
        )
    else:
        outcome = HttpOutcome(status_code=None, excerpt="", error="endpoint is inactive", latency_ms=0)
    now = timezone.now()
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
            succeeded=outcome.ok,
        )
        attempts = delivery.attempts + 1
        fields: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now}
        retry_in: timedelta | None = None
        if outcome.ok:
            fields.update(status=WebhookDelivery.Status.SUCCEEDED, next_attempt_at=None, finished_at=now)
        elif now >= (delivery.retry_until or delivery.created_at + max_age()) or not endpoint.is_active:
            fields.update(status=WebhookDelivery.Status.DEAD, next_attempt_at=None, finished_at=now)
        else:
            retry_in = retry_delay(attempts)
            fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=now + retry_in)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        if retry_in is not None:
            _enqueue_deliveries_on_commit([delivery.pk], countdown=retry_in.total_seconds())
    if not outcome.ok:
        logger.info(
            "webhook %s to %s failed (attempt %s): %s",
            event.public_id,
            endpoint.url,
            attempts,
            outcome.status_code or outcome.error,
        )
    return attempt


def webhook_delivery_resend(
    *, delivery: WebhookDelivery, actor: Any = None, request: Any = None
) -> WebhookDelivery:
    """Send a delivery again now (any status); the retry period restarts."""
    from .services import _actor_fields, audit_log_record

    now = timezone.now()
    with transaction.atomic():
        delivery = webhook_delivery_lock(delivery.pk)
        before = {"status": delivery.status, "attempts": delivery.attempts}
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now
        delivery.retry_until = now + max_age()
        delivery.finished_at = None
        delivery.save(update_fields=["status", "next_attempt_at", "retry_until", "finished_at"])
        audit_log_record(
            action="webhook_delivery.resent",
            target=delivery,
            before=before,
            after={"status": delivery.status},
            request=request,
            **_actor_fields(actor),
        )
        _enqueue_deliveries_on_commit([delivery.pk])
    return delivery


def webhooks_sweep(*, batch_size: int = 500) -> dict[str, int]:
    """Fan out events whose dispatch was lost and queue deliveries that are due."""
    counts = {"events_dispatched": 0, "deliveries_queued": 0}
    grace = timezone.now() - timedelta(seconds=int(_setting("WEBHOOK_SWEEP_GRACE_SECONDS", 5)))
    while True:
        pks = list(
            OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=grace)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        for pk in pks:
            webhooks_dispatch_event(event_pk=pk)
        counts["events_dispatched"] += len(pks)
        if len(pks) < batch_size:
            break
    due = list(
        WebhookDelivery.objects.filter(
            Q(status=WebhookDelivery.Status.PENDING) | Q(status=WebhookDelivery.Status.FAILED),
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: batch_size * 10]
    )
    if due:
        from .tasks import webhooks_deliver

        for pk in due:
            webhooks_deliver.delay(pk)
    counts["deliveries_queued"] = len(due)
    return counts


def webhooks_purge(*, older_than: timedelta | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Delete outbox events (with their deliveries and attempts) past retention.

    Only events that were dispatched and whose deliveries are all finished (succeeded or
    dead) go; WEBHOOK_RETENTION_DAYS (30) by default.
    """
    days = float(_setting("WEBHOOK_RETENTION_DAYS", 30))
    cutoff = timezone.now() - (older_than if older_than is not None else timedelta(days=days))
    open_statuses = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED]
    counts = {"events": 0, "deliveries": 0, "attempts": 0}
    last_pk = 0
    while True:
        pks = list(
            OutboxEvent.objects.filter(pk__gt=last_pk, created_at__lt=cutoff, dispatched_at__isnull=False)
            .exclude(deliveries__status__in=open_statuses)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return counts
        last_pk = pks[-1]
        with transaction.atomic():
            counts["attempts"] += WebhookAttempt.objects.filter(delivery__event_id__in=pks).delete()[0]
            counts["deliveries"] += WebhookDelivery.objects.filter(event_id__in=pks).delete()[0]
            counts["events"] += OutboxEvent.objects.filter(pk__in=pks).delete()[0]
