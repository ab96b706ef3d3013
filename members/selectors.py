"""Reads of the members domain."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from core.errors import ErrorCode, NotFound

from .models import ExternalIdentity, Notification, QualificationDocument, Ticket, TicketAttachment

User = get_user_model()


def member_resolve(*, partner, ref: str, for_update: bool = False):
    """A member addressed by `member_id` or by `ext:<external_id>` of the calling partner.

    Raises NotFound (code member_not_found) otherwise; a partner never resolves another
    partner's external ids.
    """
    ref = (ref or "").strip()
    qs = User.objects.filter(is_staff=False)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    if ref.startswith("ext:"):
        subject = ref[4:]
        member_pk = (
            ExternalIdentity.objects.filter(partner=partner, subject=subject)
            .values_list("member_id", flat=True)
            .first()
            if subject
            else None
        )
        member = qs.filter(pk=member_pk).first() if member_pk else None
    else:
        member = qs.filter(member_id=ref).first() if ref else None
    if member is None:
        raise NotFound(f"No member {ref!r}.", code=ErrorCode.MEMBER_NOT_FOUND)
    return member


def member_lookup(*, partner, phone: str = "", email: str = "", external_id: str = ""):
    """Members matching every given filter (API look-up); external ids only of this partner."""
    qs = User.objects.filter(is_staff=False)
    if phone:
        qs = qs.filter(phone=phone)
    if email:
        qs = qs.filter(email=email.strip().lower())
    if external_id:
        qs = qs.filter(external_identities__partner=partner, external_identities__subject=external_id)
    return qs


def member_external_id(*, member, partner) -> str | None:
    return (
        ExternalIdentity.objects.filter(member=member, partner=partner)
        .values_list("subject", flat=True)
        .first()
        if partner is not None
        else None
    )


def notifications_for(*, member):
    return Notification.objects.filter(member=member)


def unread_count(*, member) -> int:
    return Notification.objects.filter(member=member, read_at__isnull=True).count()


def tickets_for(*, member):
    return Ticket.objects.filter(member=member)


def access_ticket(*, member, public_id: str) -> Ticket:
    """The member's own ticket, or 404 (another member's id is simply not found)."""
    ticket = Ticket.objects.filter(member=member, public_id=public_id).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def ticket_thread(*, ticket: Ticket, include_internal: bool = False):
    replies = ticket.replies.select_related("author").prefetch_related("attachments")
    if not include_internal:
        replies = replies.filter(is_internal=False)
    return replies


def access_document(*, viewer, public_id: str) -> QualificationDocument:
    """The viewer's own document, or any document for a PII permission holder; else 404."""
    qs = QualificationDocument.objects.select_related("member")
    if not (viewer.is_staff and viewer.has_perm("members.view_pii")):
        qs = qs.filter(member=viewer)
    document = qs.filter(public_id=public_id).first()
    if document is None:
        raise NotFound("No such document.")
    return document


def access_attachment(*, viewer, public_id: str) -> TicketAttachment:
    qs = TicketAttachment.objects.select_related("ticket", "reply")
    if not viewer.is_staff:
        qs = qs.filter(ticket__member=viewer).exclude(reply__is_internal=True)
    attachment = qs.filter(public_id=public_id).first()
    if attachment is None:
        raise NotFound("No such attachment.")
    return attachment


def verification_summary(*, member) -> dict:
    realname = member.real_name_verifications.order_by("-created_at", "-id").first()
    return {
        "level": member.verification_level,
        "level_display": member.get_verification_level_display(),
        "phone_verified": bool(member.phone_verified_at),
        "email_verified": bool(member.email_verified_at),
        "realname": realname,
        "documents": list(member.documents.all()),
    }


def member_external_ids(*, members, partner) -> dict[int, str]:
    """{member pk: this partner's external id} for a page of members, in one query."""
    pks = [m.pk for m in members]
    rows = ExternalIdentity.objects.filter(member_id__in=pks, partner=partner).values_list(
        "member_id", "subject"
    )
    return dict(rows)


def member_id_for_contact(*, channel: str, target: str) -> str | None:
    lookup = {"phone": target} if channel == "sms" else {"email": target.lower()}
    return (
        User.objects.filter(is_staff=False, **lookup)
        .exclude(status="closed")
        .values_list("member_id", flat=True)
        .first()
    )
