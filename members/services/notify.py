"""Members services: the only code that writes the members domain."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from core.errors import ApplicationError, ErrorCode

from ..models import Notification, User

logger = logging.getLogger(__name__)


def member_assert_can_transact(member: User) -> None:
    """Refuse earning or spending for a frozen or closed member (risk control)."""
    if member.status == User.Status.FROZEN:
        raise ApplicationError(
            "This member is frozen and cannot earn or spend.", code=ErrorCode.MEMBER_FROZEN, status=409
        )
    if member.status == User.Status.CLOSED:
        raise ApplicationError("This member's account is closed.", code=ErrorCode.MEMBER_CLOSED, status=409)


def member_notify(
    *,
    member: User,
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    channels: Iterable[str] = ("inbox",),
    dedupe_key: str | None = None,
) -> Notification | None:
    """Put a message in the member's inbox and send copies by email/SMS after commit.

    With a dedupe_key, a second call for the same member and key does nothing (jobs re-run).
    """
    channels = list(channels)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                member=member,
                kind=kind,
                title=title,
                body=body,
                data=data or {},
                channels=channels,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None

    def send_copies_rollback_unsafe() -> None:
        if "email" in channels and member.email:
            try:
                send_mail(title, body, None, [member.email])
            except Exception:  # noqa: BLE001 - a mail outage must not break the caller
                logger.exception("email to member %s failed", member.member_id)
        if "sms" in channels and member.phone:
            from ..sms import send_sms

            try:
                send_sms(member.phone, f"{title} {body}".strip())
            except Exception:  # noqa: BLE001
                logger.exception("sms to member %s failed", member.member_id)

    transaction.on_commit(send_copies_rollback_unsafe)
    return note
