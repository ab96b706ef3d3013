"""Privacy: download all my data (JSON) and close my account (anonymise, keep ledgers)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events, registry
from core.errors import ApplicationError
from core.services import audit_log_record

from ..models import (
    ExternalIdentity,
    Notification,
    QualificationDocument,
    RealNameVerification,
    Ticket,
    TicketAttachment,
    TicketReply,
    User,
    VerificationCode,
)
from .codes import code_verify

logger = logging.getLogger(__name__)
REMOVED = "[removed]"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def privacy_export(*, member: User, request=None) -> dict[str, Any]:
    """All data about the member; ID numbers stay masked. Sections of other apps come from
    core.registry.register_export_section. The export itself is audited."""
    from .accounts import profile_completeness

    data: dict[str, Any] = {
        "exported_at": _iso(timezone.now()),
        "profile": {
            "member_id": member.member_id,
            "phone": member.phone,
            "email": member.email,
            "phone_verified_at": _iso(member.phone_verified_at),
            "email_verified_at": _iso(member.email_verified_at),
            "nickname": member.nickname,
            "birthday": _iso(member.birthday),
            "gender": member.gender,
            "region": member.region,
            "occupation": member.occupation,
            "status": member.status,
            "lifecycle_stage": member.lifecycle_stage,
            "channel": member.channel,
            "referral_code": member.referral_code,
            "referred_by": member.referred_by.member_id if member.referred_by_id else None,
            "verification_level": member.verification_level,
            "profile_completeness": profile_completeness(member),
            "date_joined": _iso(member.date_joined),
        },
        "registration_source": None,
        "consents": [
            {
                "document": c.document,
                "version": c.version,
                "accepted_at": _iso(c.accepted_at),
                "ip_address": c.ip_address,
                "user_agent": c.user_agent,
            }
            for c in member.consents.all()
        ],
        "external_identities": [
            {"provider": i.provider, "subject": i.subject, "created_at": _iso(i.created_at)}
            for i in member.external_identities.all()
        ],
        "real_name_verifications": [
            {
                "name": v.name_masked,
                "id_number": v.id_number_masked,
                "status": v.status,
                "created_at": _iso(v.created_at),
                "reviewed_at": _iso(v.reviewed_at),
            }
            for v in member.real_name_verifications.all()
        ],
        "documents": [
            {
                "id": d.public_id,
                "kind": d.kind,
                "file_name": d.original_name,
                "status": d.status,
                "review_note": d.review_note,
                "created_at": _iso(d.created_at),
            }
            for d in member.documents.all()
        ],
        "tickets": [
            {
                "id": t.public_id,
                "category": t.category,
                "subject": t.subject,
                "body": t.body,
                "status": t.status,
                "satisfaction": t.satisfaction,
                "created_at": _iso(t.created_at),
                "replies": [
                    {"from_operator": r.from_operator, "body": r.body, "created_at": _iso(r.created_at)}
                    for r in t.replies.all()
                    if not r.is_internal
                ],
            }
            for t in member.tickets.prefetch_related("replies")
        ],
        "notifications": [
            {
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
            }
            for n in member.notifications.all()
        ],
    }
    source = getattr(member, "registration_source", None)
    if source is not None:
        data["registration_source"] = {
            "channel": source.channel,
            "utm_source": source.utm_source,
            "utm_medium": source.utm_medium,
            "utm_campaign": source.utm_campaign,
            "referrer": source.referrer,
            "store_id": source.store_id,
            "referral_code": source.referral_code,
        }
    for name, section in sorted(registry.export_sections().items()):
        data[name] = section(member)
    audit_log_record(
        action="members.privacy.exported",
        actor_type="member",
        actor_user=member,
        target=member,
        request=request,
    )
    return data


def member_close(*, member: User, password: str = "", sms_code: str = "", request=None) -> User:
    """Close the account after the member proves it is them (password or SMS code).

    Personal data is cleared or replaced; ledgers elsewhere keep their rows (they point at the
    member row, which stays, anonymised). Publishes MEMBER_CLOSED; audited.
    """
    if member.is_closed:
        raise ApplicationError(_("This account is already closed."), code="member_closed", status=409)
    if password:
        if not member.has_usable_password() or not member.check_password(password):
            raise ApplicationError(_("Wrong password."), errors={"password": [_("Wrong password.")]})
    elif sms_code:
        if not member.phone:
            raise ApplicationError(
                _("No phone number on this account."), errors={"code": [_("No phone number.")]}
            )
        code_verify(channel="sms", target=member.phone, purpose=VerificationCode.Purpose.CLOSE, code=sms_code)
    else:
        message = _("Confirm with your password or an SMS code.")
        raise ApplicationError(message, errors={"password": [message]})

    blobs: list[str] = []
    with transaction.atomic():
        member = User.objects.select_for_update(of=("self",)).get(pk=member.pk)
        old_contacts = [c for c in (member.phone, member.email) if c]
        before_status = member.status
        now = timezone.now()
        member.phone = None
        member.email = None
        member.phone_verified_at = None
        member.email_verified_at = None
        member.nickname = ""
        member.birthday = None
        member.gender = ""
        member.region = ""
        member.occupation = ""
        member.referral_code = None
        member.status = User.Status.CLOSED
        member.status_reason = "closed by member"
        member.status_changed_at = now
        member.closed_at = now
        member.is_active = False
        member.set_unusable_password()
        member.save()
        RealNameVerification.objects.filter(member=member).update(
            name_encrypted="",
            id_number_encrypted="",
            id_number_hash="",
            name_masked=REMOVED,
            id_number_masked=REMOVED,
        )
        blobs += list(
            QualificationDocument.objects.filter(member=member).values_list("storage_name", flat=True)
        )
        QualificationDocument.objects.filter(member=member).update(storage_name="", original_name=REMOVED)
        blobs += list(
            TicketAttachment.objects.filter(ticket__member=member).values_list("storage_name", flat=True)
        )
        TicketAttachment.objects.filter(ticket__member=member).update(storage_name="", original_name=REMOVED)
        Ticket.objects.filter(member=member).update(body=REMOVED)
        TicketReply.objects.filter(ticket__member=member, from_operator=False).update(body=REMOVED)
        ExternalIdentity.objects.filter(member=member).delete()
        Notification.objects.filter(member=member).delete()
        VerificationCode.objects.filter(target__in=old_contacts).delete()
        member.consents.update(ip_address=None, user_agent="")
        audit_log_record(
            action="members.closed",
            actor_type="member",
            actor_user=member,
            target=member,
            before={"status": before_status},
            after={"status": User.Status.CLOSED},
            request=request,
        )
        events.publish(
            events.MEMBER_STATUS_CHANGED,
            member=member,
            old=before_status,
            new=User.Status.CLOSED,
            reason="closed by member",
        )
        events.publish(events.MEMBER_CLOSED, member=member)

        def delete_blobs_rollback_unsafe() -> None:
            for name in blobs:
                if name:
                    try:
                        default_storage.delete(name)
                    except OSError:
                        logger.warning("could not delete %s", name)

        transaction.on_commit(delete_blobs_rollback_unsafe)
    return member
