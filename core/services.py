"""Core services: the only code that writes core's tables."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from .api.auth import KEY_PREFIX, hash_key
from .ids import random_string
from .models import ApiKey, AuditLog, Partner

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


def api_key_create(*, partner_name: str, scopes: list[str], name: str = "") -> tuple[ApiKey, str]:
    """Create a key (and the partner if missing). Returns the row and the raw key, shown once."""
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        from .errors import ApplicationError

        raise ApplicationError(
            f"Unknown scope(s): {', '.join(unknown)}", errors={"scopes": [f"Unknown: {', '.join(unknown)}"]}
        )
    with transaction.atomic():
        partner, _ = Partner.objects.get_or_create(name=partner_name)
        prefix = random_string(8)
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32).replace('_', '-')}"
        api_key = ApiKey.objects.create(
            partner=partner, name=name, prefix=prefix, key_hash=hash_key(raw), scopes=list(scopes)
        )
    return api_key, raw


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
