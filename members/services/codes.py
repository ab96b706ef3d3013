"""One-time codes (SMS/email) and emailed links, with DB-backed rate limits.

Codes are 6 digits, live 5 minutes, are single use and stored as an HMAC keyed with
SECRET_KEY; five wrong tries kill a code. Sending is limited per target (phone or email) and
per IP in ThrottleBucket rows, so the limits hold across processes and for the API too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, RateLimited

from ..models import ThrottleBucket, VerificationCode

CODE_TTL = timedelta(minutes=5)
LINK_TTL = timedelta(hours=24)
MAX_ATTEMPTS = 5

DEFAULT_LIMITS = {"target_per_minute": 1, "target_per_day": 10, "ip_per_hour": 20}


def code_limits() -> dict[str, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "MEMBERS_CODE_LIMITS", {})}


def normalise_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    return phone


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash(secret: str, *, channel: str, purpose: str, target: str) -> str:
    message = f"{channel}:{purpose}:{target}:{secret}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def throttle_hit(*, key: str, limit: int, window: timedelta, now=None) -> None:
    """Count one hit against `key`; RateLimited when `limit` hits fell in the current window.

    The window starts at the first hit and lasts `window`. Call inside a transaction so that a
    refusal by a later bucket rolls this hit back.
    """
    now = now or timezone.now()
    ThrottleBucket.objects.get_or_create(key=key[:300], defaults={"window_start": now, "count": 0})
    bucket = ThrottleBucket.objects.filter(key=key[:300])
    if bucket.filter(window_start__lte=now - window).update(window_start=now, count=1):
        return
    if bucket.filter(window_start__gt=now - window, count__lt=limit).update(count=F("count") + 1):
        return
    started = bucket.values_list("window_start", flat=True).first() or now
    retry_after = max(int((started + window - now).total_seconds()) + 1, 1)
    raise RateLimited(
        _("Too many codes requested. Try again in %(seconds)s seconds.") % {"seconds": retry_after},
        retry_after=retry_after,
        errors={
            "code": [
                _("Too many codes requested. Try again in %(seconds)s seconds.") % {"seconds": retry_after}
            ]
        },
    )


def _throttle_send(*, channel: str, target: str, ip: str | None, now) -> None:
    limits = code_limits()
    throttle_hit(
        key=f"code:{channel}:{target}:minute",
        limit=limits["target_per_minute"],
        window=timedelta(minutes=1),
        now=now,
    )
    throttle_hit(
        key=f"code:{channel}:{target}:day", limit=limits["target_per_day"], window=timedelta(days=1), now=now
    )
    if ip:
        throttle_hit(
            key=f"code:ip:{ip}:hour", limit=limits["ip_per_hour"], window=timedelta(hours=1), now=now
        )


@dataclass
class IssuedCode:
    row: VerificationCode
    secret: str  # the code or link token, to be sent and never stored


def code_issue(
    *, channel: str, target: str, purpose: str, ip: str | None = None, send: bool = True
) -> IssuedCode:
    """Create a 6-digit code for `target` and send it after commit. Rate limited."""
    target = normalise_phone(target) if channel == VerificationCode.Channel.SMS else normalise_email(target)
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        _throttle_send(channel=channel, target=target, ip=ip, now=now)
        row = VerificationCode.objects.create(
            purpose=purpose,
            channel=channel,
            target=target,
            code_hash=_hash(code, channel=channel, purpose=purpose, target=target),
            created_at=now,
            expires_at=now + CODE_TTL,
            ip_address=ip,
        )
        if send:
            text = _("Your Memberhub verification code is %(code)s. It expires in 5 minutes.") % {
                "code": code
            }

            def deliver_rollback_unsafe() -> None:
                if channel == VerificationCode.Channel.SMS:
                    from ..sms import send_sms

                    send_sms(target, text)
                else:
                    send_mail(_("Your Memberhub verification code"), text, None, [target])

            transaction.on_commit(deliver_rollback_unsafe)
    return IssuedCode(row=row, secret=code)


def code_verify(*, channel: str, target: str, purpose: str, code: str) -> VerificationCode:
    """Consume the latest code for target+purpose if `code` matches; else count a wrong try.

    Raises ApplicationError with a `code` field error (codes code_invalid, code_expired,
    code_attempts_exceeded). Only the most recently issued code is valid.
    """
    target = normalise_phone(target) if channel == VerificationCode.Channel.SMS else normalise_email(target)
    code = (code or "").strip()
    now = timezone.now()
    outcome = "ok"
    with transaction.atomic():
        row = (
            VerificationCode.objects.select_for_update()
            .filter(channel=channel, target=target, purpose=purpose, is_link=False)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None or row.used_at is not None:
            outcome = "invalid"
        elif row.attempts >= MAX_ATTEMPTS:
            outcome = "attempts"
        elif row.expires_at <= now:
            outcome = "expired"
        elif not hmac.compare_digest(
            row.code_hash, _hash(code, channel=channel, purpose=purpose, target=target)
        ):
            VerificationCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            outcome = "dead" if row.attempts + 1 >= MAX_ATTEMPTS else "wrong"
        elif not VerificationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
            outcome = "invalid"
    if outcome == "ok":
        row.used_at = now
        return row
    messages = {
        "invalid": (_("No valid code for this number or address: request a new one."), "code_invalid"),
        "attempts": (_("Too many wrong tries: request a new code."), "code_attempts_exceeded"),
        "dead": (_("Wrong code. Too many wrong tries: request a new code."), "code_attempts_exceeded"),
        "expired": (_("This code has expired: request a new one."), "code_expired"),
        "wrong": (_("Wrong code."), "code_invalid"),
    }
    message, error_code = messages[outcome]
    raise ApplicationError(message, code=error_code, errors={"code": [message]})


def link_issue(*, email: str, purpose: str, ip: str | None = None, data: dict | None = None) -> IssuedCode:
    """A single-use emailed link token (24 hours), rate limited like codes. The caller sends it."""
    target = normalise_email(email)
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _throttle_send(channel=VerificationCode.Channel.EMAIL, target=target, ip=ip, now=now)
        row = VerificationCode.objects.create(
            purpose=purpose,
            channel=VerificationCode.Channel.EMAIL,
            target=target,
            is_link=True,
            code_hash=_hash(token, channel="link", purpose=purpose, target=""),
            created_at=now,
            expires_at=now + LINK_TTL,
            ip_address=ip,
            data=data or {},
        )
    return IssuedCode(row=row, secret=token)


def link_consume(*, token: str, purpose: str) -> VerificationCode:
    digest = _hash(token or "", channel="link", purpose=purpose, target="")
    now = timezone.now()
    with transaction.atomic():
        row = (
            VerificationCode.objects.select_for_update()
            .filter(code_hash=digest, purpose=purpose, is_link=True)
            .first()
        )
        if row is None or row.used_at is not None:
            raise ApplicationError(_("This link is not valid or was already used."), code="link_invalid")
        if row.expires_at <= now:
            raise ApplicationError(_("This link has expired."), code="link_expired")
        VerificationCode.objects.filter(pk=row.pk).update(used_at=now)
        row.used_at = now
    return row


def codes_purge(*, older_than: timedelta = timedelta(days=2), batch: int = 5000) -> dict[str, int]:
    """Delete codes and rate-limit windows that can no longer matter, in bounded batches.

    Idempotent and restartable: it only removes rows past their use. Codes are kept two days
    after expiry for support questions; a day-long window is over after a day.
    """
    now = timezone.now()
    counts = {"codes": 0, "buckets": 0}
    for model, cutoff_filter, key in (
        (VerificationCode, {"expires_at__lt": now - older_than}, "codes"),
        (ThrottleBucket, {"window_start__lt": now - timedelta(days=1, minutes=5)}, "buckets"),
    ):
        while True:
            pks = list(model.objects.filter(**cutoff_filter).values_list("pk", flat=True)[:batch])
            if not pks:
                break
            counts[key] += model.objects.filter(pk__in=pks).delete()[0]
    return counts
