"""Core services: the only code that writes core's tables."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .api.auth import KEY_PREFIX, hash_key
from .errors import ApplicationError
from .ids import random_string
from .lock_objects import api_key_lock
from .models import ApiKey, AuditLog, IdempotencyRecord, JobRun, Partner

KNOWN_SCOPES = [
    "members:read",
    "members:write",
    "orders:write",
    "points:read",
    "points:write",
    "coupons:read",
    "coupons:write",
    "events:write",
    "analytics:read",
    "webhooks:write",
]


def _actor_fields(actor: Any) -> dict[str, Any]:
    """audit_log_record kwargs for whoever acted: an operator (User), a label, or the system."""
    if actor is None:
        return {"actor_type": AuditLog.ActorType.SYSTEM, "actor_label": "system"}
    if isinstance(actor, str):
        return {"actor_type": AuditLog.ActorType.SYSTEM, "actor_label": actor}
    return {"actor_type": AuditLog.ActorType.OPERATOR, "actor_user": actor}


def _key_snapshot(api_key: ApiKey) -> dict[str, Any]:
    return {
        "partner": api_key.partner.name,
        "name": api_key.name,
        "prefix": api_key.prefix,
        "scopes": list(api_key.scopes or []),
        "require_signature": api_key.require_signature,
        "has_signing_secret": bool(api_key.signing_secret),
        "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        "revoked_at": api_key.revoked_at.isoformat() if api_key.revoked_at else None,
    }


def _validate_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise ApplicationError(
            f"Unknown scope(s): {', '.join(unknown)}", errors={"scopes": [f"Unknown: {', '.join(unknown)}"]}
        )
    return list(dict.fromkeys(scopes))


def _new_raw_key() -> tuple[str, str]:
    prefix = random_string(8)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"


def new_signing_secret() -> str:
    """A random HMAC secret for X-Signature (requests or webhooks)."""
    return "mhsig_" + secrets.token_urlsafe(32)


def rotation_grace_default() -> timedelta:
    return timedelta(hours=float(getattr(settings, "API_KEY_ROTATION_GRACE_HOURS", 24)))


def api_key_create(
    *,
    partner_name: str = "",
    scopes: list[str],
    name: str = "",
    partner: Partner | None = None,
    require_signature: bool = False,
    actor: Any = None,
    request: Any = None,
) -> tuple[ApiKey, str]:
    """Create a key (and the partner if missing). Returns the row and the raw key, shown once.

    With require_signature a signing secret is generated; read it once from
    `api_key.signing_secret` right after this call.
    """
    scopes = _validate_scopes(scopes)
    if partner is None and not partner_name.strip():
        raise ApplicationError("A partner is required.", errors={"partner": ["This field is required."]})
    with transaction.atomic():
        if partner is None:
            partner, _ = Partner.objects.get_or_create(name=partner_name.strip())
        prefix, raw = _new_raw_key()
        api_key = ApiKey.objects.create(
            partner=partner,
            name=name,
            prefix=prefix,
            key_hash=hash_key(raw),
            scopes=scopes,
            require_signature=require_signature,
            signing_secret=new_signing_secret() if require_signature else "",
        )
        audit_log_record(
            action="api_key.created",
            target=api_key,
            after=_key_snapshot(api_key),
            request=request,
            **_actor_fields(actor),
        )
    return api_key, raw


def api_key_update(
    *,
    api_key: ApiKey,
    name: str | None = None,
    scopes: list[str] | None = None,
    require_signature: bool | None = None,
    actor: Any = None,
    request: Any = None,
) -> ApiKey:
    """Change a key's label, scopes or signing requirement (a secret is generated if needed)."""
    with transaction.atomic():
        api_key = api_key_lock(api_key.pk)
        before = _key_snapshot(api_key)
        if name is not None:
            api_key.name = name
        if scopes is not None:
            api_key.scopes = _validate_scopes(scopes)
        if require_signature is not None:
            api_key.require_signature = require_signature
            if require_signature and not api_key.signing_secret:
                api_key.signing_secret = new_signing_secret()
        api_key.save(update_fields=["name", "scopes", "require_signature", "signing_secret"])
        after = _key_snapshot(api_key)
        if after != before:
            audit_log_record(
                action="api_key.updated",
                target=api_key,
                before=before,
                after=after,
                request=request,
                **_actor_fields(actor),
            )
    return api_key


def api_key_revoke(*, api_key: ApiKey, actor: Any = None, request: Any = None) -> ApiKey:
    """Stop a key now. Revoking a revoked key changes nothing."""
    with transaction.atomic():
        api_key = api_key_lock(api_key.pk)
        if api_key.revoked_at is not None:
            return api_key
        before = _key_snapshot(api_key)
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_log_record(
            action="api_key.revoked",
            target=api_key,
            before=before,
            after=_key_snapshot(api_key),
            request=request,
            **_actor_fields(actor),
        )
    return api_key


def api_key_rotate(
    *,
    api_key: ApiKey,
    grace_period: timedelta | None = None,
    actor: Any = None,
    request: Any = None,
) -> tuple[ApiKey, str]:
    """Issue a replacement key; the old one keeps working until the grace period ends.

    The new key has the same partner, name, scopes and signing settings (same signing secret:
    reset it separately with api_key_signing_secret_reset). Default grace:
    settings.API_KEY_ROTATION_GRACE_HOURS (24). Returns the new row and its raw key.
    """
    grace = rotation_grace_default() if grace_period is None else grace_period
    if grace < timedelta(0):
        raise ApplicationError(
            "The grace period cannot be negative.", errors={"grace_period": ["Must be >= 0."]}
        )
    with transaction.atomic():
        old = api_key_lock(api_key.pk)
        now = timezone.now()
        if not old.is_usable(now):
            raise ApplicationError("Only a usable key can be rotated.", code="api_key_revoked", status=409)
        before = _key_snapshot(old)
        prefix, raw = _new_raw_key()
        new = ApiKey.objects.create(
            partner=old.partner,
            name=old.name,
            prefix=prefix,
            key_hash=hash_key(raw),
            scopes=list(old.scopes or []),
            require_signature=old.require_signature,
            signing_secret=old.signing_secret,
            rotated_from=old,
        )
        grace_end = now + grace
        if old.expires_at is None or old.expires_at > grace_end:
            old.expires_at = grace_end
            old.save(update_fields=["expires_at"])
        audit_log_record(
            action="api_key.rotated",
            target=old,
            before=before,
            after={**_key_snapshot(old), "replaced_by": new.prefix},
            request=request,
            **_actor_fields(actor),
        )
        audit_log_record(
            action="api_key.created",
            target=new,
            after={**_key_snapshot(new), "rotated_from": old.prefix},
            request=request,
            **_actor_fields(actor),
        )
    return new, raw


def api_key_signing_secret_reset(
    *, api_key: ApiKey, require_signature: bool | None = None, actor: Any = None, request: Any = None
) -> str:
    """Generate a new signing secret for a key; returns it (shown once)."""
    with transaction.atomic():
        api_key = api_key_lock(api_key.pk)
        before = _key_snapshot(api_key)
        secret = new_signing_secret()
        api_key.signing_secret = secret
        if require_signature is not None:
            api_key.require_signature = require_signature
        api_key.save(update_fields=["signing_secret", "require_signature"])
        audit_log_record(
            action="api_key.signing_secret_reset",
            target=api_key,
            before=before,
            after=_key_snapshot(api_key),
            request=request,
            **_actor_fields(actor),
        )
    return secret


def idempotency_records_purge(*, older_than: timedelta | None = None, batch_size: int = 1000) -> int:
    """Delete Idempotency-Key records past their retention (never less than 24 hours)."""
    hours = float(getattr(settings, "IDEMPOTENCY_RECORD_TTL_HOURS", 24))
    ttl = older_than if older_than is not None else timedelta(hours=max(hours, 24))
    cutoff = timezone.now() - ttl
    deleted = 0
    while True:
        pks = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=pks).delete()[0]


def audit_log_record(
    *,
    action: str,
    actor_type: str,
    actor_user: Any = None,
    actor_label: str = "",
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    before: Any = None,
    after: Any = None,
    request: Any = None,
    note: str = "",
) -> AuditLog:
    """Append an audit row in the caller's transaction."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(getattr(target, "member_id", None) or target.pk)
    ip = None
    request_id = ""
    if request is not None:
        ip = request.META.get("REMOTE_ADDR")
        request_id = getattr(request, "request_id", "")
    if not actor_label and actor_user is not None:
        actor_label = str(actor_user)
    return AuditLog.objects.create(
        action=action,
        actor_type=actor_type,
        actor_user=actor_user if getattr(actor_user, "pk", None) else None,
        actor_label=actor_label[:200],
        target_type=target_type,
        target_id=target_id[:100],
        before=before,
        after=after,
        ip_address=ip,
        request_id=request_id,
        note=note,
    )


def job_runs_purge(*, older_than: timedelta | None = None, batch_size: int = 1000) -> int:
    """Delete finished JobRun rows past retention (JOB_RUN_RETENTION_DAYS, default 90)."""
    days = float(getattr(settings, "JOB_RUN_RETENTION_DAYS", 90))
    cutoff = timezone.now() - (older_than if older_than is not None else timedelta(days=days))
    deleted = 0
    while True:
        pks = list(
            JobRun.objects.filter(started_at__lt=cutoff)
            .exclude(status=JobRun.Status.RUNNING)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return deleted
        deleted += JobRun.objects.filter(pk__in=pks).delete()[0]
