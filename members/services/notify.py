"""Members services: the only code that writes the members domain."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import IntegrityError, connections, router, transaction

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


@dataclass(frozen=True)
class Notice:
    """One message of member_notify_bulk (the same fields as member_notify's)."""

    member: User
    kind: str
    title: str
    body: str = ""
    data: dict[str, Any] | None = None
    dedupe_key: str | None = None


def _notifications_insert(rows: list[Notification]) -> set[tuple[int, str | None]]:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING (member, dedupe_key): the rows
    that were new. A conflict on the dedupe constraint (a re-run, or a concurrent sender)
    skips the row without a savepoint."""
    conn = connections[router.db_for_write(Notification)]
    qn = conn.ops.quote_name
    meta = Notification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    params: list[Any] = []
    for row in rows:
        params.extend(f.get_db_prep_save(f.pre_save(row, True), conn) for f in fields)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([placeholder] * len(rows))} ON CONFLICT DO NOTHING "
        f"RETURNING {qn(meta.get_field('member').column)}, {qn(meta.get_field('dedupe_key').column)}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return {(member_pk, key) for member_pk, key in cursor.fetchall()}


def _send_copies(copies: list[tuple[str, str, str, str]], channels: list[str]) -> None:
    """Email (one mail connection per batch) and SMS copies of notices, after commit."""
    if "email" in channels:
        messages = [
            EmailMessage(title, body, None, [email]) for email, _phone, title, body in copies if email
        ]
        if messages:
            try:
                get_connection().send_messages(messages)
            except Exception:  # noqa: BLE001 - a mail outage must not break the caller
                logger.exception("email copies of %s notices failed", len(messages))
    if "sms" in channels:
        from ..sms import get_backend

        backend = get_backend()
        for _email, phone, title, body in copies:
            if not phone:
                continue
            try:
                backend.send(phone, f"{title} {body}".strip())
            except Exception:  # noqa: BLE001
                logger.exception("sms copy of a notice failed")


def member_notify_bulk(
    *,
    items: Iterable[Notice],
    channels: Iterable[str] = ("inbox",),
    batch_size: int = 500,
) -> int:
    """member_notify for many members at once (jobs): inbox rows inserted `batch_size` per
    statement; a row whose (member, dedupe_key) already exists is skipped (no copy is sent for
    it, as with member_notify); email/SMS copies of the new rows are sent after commit, one
    callback per batch (so memory is bounded by the caller's transaction, not by the run).

    Returns the number of notices created. Call inside the caller's transaction.
    """
    channels = list(channels)
    created = 0
    batch: list[Notice] = []

    def flush() -> int:
        rows = [
            Notification(
                member=n.member,
                kind=n.kind,
                title=n.title,
                body=n.body,
                data=n.data or {},
                channels=channels,
                dedupe_key=n.dedupe_key,
            )
            for n in batch
        ]
        inserted = _notifications_insert(rows)
        new = []
        for n in batch:
            if n.dedupe_key is None:
                new.append(n)
            elif (n.member.pk, n.dedupe_key) in inserted:
                inserted.discard((n.member.pk, n.dedupe_key))  # twice in one batch: once
                new.append(n)
        copies = [
            (n.member.email or "", n.member.phone or "", n.title, n.body)
            for n in new
            if ("email" in channels and n.member.email) or ("sms" in channels and n.member.phone)
        ]
        if copies and ("email" in channels or "sms" in channels):
            transaction.on_commit(lambda: _send_copies(copies, channels))
        return len(new)

    for notice in items:
        batch.append(notice)
        if len(batch) >= batch_size:
            created += flush()
            batch = []
    if batch:
        created += flush()
    return created
