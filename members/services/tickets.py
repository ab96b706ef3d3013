"""Feedback and complaints (会员反馈/投诉): tickets, replies, status history, SLA, adoption."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import ApplicationError, Forbidden
from core.ids import new_public_id
from core.services import audit_log_record

from ..models import Ticket, TicketAttachment, TicketReply, TicketStatusChange, User
from .notify import member_notify
from .verification import encrypted_blob_read, encrypted_blob_save, upload_validate

DEFAULT_SLA_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 168}
MAX_ATTACHMENTS = 5


def ticket_sla_hours() -> dict[str, int]:
    return {**DEFAULT_SLA_HOURS, **getattr(settings, "MEMBERS_TICKET_SLA_HOURS", {})}


def _attach(*, ticket: Ticket, reply: TicketReply | None, files) -> None:
    files = list(files or [])
    if len(files) > MAX_ATTACHMENTS:
        raise ApplicationError(_("At most 5 files."), errors={"attachments": [_("At most 5 files.")]})
    blobs = [(f, upload_validate(f, field_name="attachments")) for f in files]
    for uploaded, data in blobs:
        TicketAttachment.objects.create(
            public_id=new_public_id("att", 16),
            ticket=ticket,
            reply=reply,
            storage_name=encrypted_blob_save(folder="tickets", data=data),
            original_name=(uploaded.name or "file")[-200:],
            content_type=uploaded.content_type.split(";")[0].strip(),
            size=len(data),
        )


def ticket_create(
    *,
    member: User,
    category: str,
    subject: str,
    body: str,
    priority: str = Ticket.Priority.NORMAL,
    attachments=(),
) -> Ticket:
    errors = {}
    if category not in Ticket.Category.values:
        errors["category"] = [_("Choose a category.")]
    if priority not in Ticket.Priority.values:
        errors["priority"] = [_("Choose a priority.")]
    if not (subject or "").strip():
        errors["subject"] = [_("This field is required.")]
    if not (body or "").strip():
        errors["body"] = [_("This field is required.")]
    if errors:
        raise ApplicationError(_("Check the highlighted fields."), errors=errors)
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            public_id=new_public_id("tkt", 12),
            member=member,
            category=category,
            priority=priority,
            subject=subject.strip()[:200],
            body=body.strip(),
            sla_due_at=now + timedelta(hours=ticket_sla_hours()[priority]),
            created_at=now,
            updated_at=now,
        )
        TicketStatusChange.objects.create(
            ticket=ticket, old_status="", new_status=Ticket.Status.OPEN, actor=member
        )
        _attach(ticket=ticket, reply=None, files=attachments)
    return ticket


def _set_status(*, ticket: Ticket, status: str, actor: User | None, note: str = "") -> bool:
    if status not in Ticket.Status.values:
        raise ApplicationError(_("Choose a valid status."), errors={"status": [_("Choose a valid status.")]})
    if ticket.status == status:
        return False
    now = timezone.now()
    TicketStatusChange.objects.create(
        ticket=ticket, old_status=ticket.status, new_status=status, actor=actor, note=note[:255]
    )
    ticket.status = status
    ticket.updated_at = now
    fields = ["status", "updated_at"]
    if status == Ticket.Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    if status == Ticket.Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
    ticket.save(update_fields=fields)
    return True


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().select_related("member").get(pk=ticket.pk)


def ticket_reply(
    *, ticket: Ticket, author: User, body: str, internal: bool = False, attachments=()
) -> TicketReply:
    """A reply by the member or an operator; an operator's internal note is never shown to the member."""
    body = (body or "").strip()
    if not body:
        raise ApplicationError(_("Write a message."), errors={"body": [_("This field is required.")]})
    from_operator = bool(author.is_staff) and author.pk != ticket.member_id
    if not from_operator and author.pk != ticket.member_id:
        raise Forbidden(_("This is not your ticket."))
    if internal and not from_operator:
        raise Forbidden(_("Only operators write internal notes."))
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise ApplicationError(_("This ticket is closed."), code="ticket_closed", status=409)
        reply = TicketReply.objects.create(
            ticket=ticket, author=author, from_operator=from_operator, is_internal=internal, body=body
        )
        _attach(ticket=ticket, reply=reply, files=attachments)
        now = timezone.now()
        if from_operator and not internal:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            if ticket.status == Ticket.Status.OPEN:
                _set_status(ticket=ticket, status=Ticket.Status.IN_PROGRESS, actor=author)
            member_notify(
                member=ticket.member,
                kind="feedback.reply",
                title=_("New reply to your feedback: %(subject)s") % {"subject": ticket.subject},
                body=body[:500],
                data={"ticket": ticket.public_id},
            )
        elif not from_operator and ticket.status in (Ticket.Status.WAITING_MEMBER, Ticket.Status.RESOLVED):
            _set_status(ticket=ticket, status=Ticket.Status.IN_PROGRESS, actor=author, note="member replied")
        ticket.updated_at = now
        ticket.save(update_fields=["first_response_at", "updated_at"])
    return reply


def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    status: str | None = None,
    assignee=...,
    priority: str | None = None,
    note: str = "",
) -> Ticket:
    """Operator changes: status (with a history row and a message to the member), assignee, priority."""
    with transaction.atomic():
        ticket = _lock(ticket)
        before = {"status": ticket.status, "assignee": ticket.assignee_id, "priority": ticket.priority}
        fields = []
        if assignee is not ... and assignee != ticket.assignee:
            if assignee is not None and not assignee.is_staff:
                raise ApplicationError(
                    _("Assign to an operator."), errors={"assignee": [_("Assign to an operator.")]}
                )
            ticket.assignee = assignee
            fields.append("assignee")
        if priority and priority != ticket.priority:
            if priority not in Ticket.Priority.values:
                raise ApplicationError(
                    _("Choose a priority."), errors={"priority": [_("Choose a priority.")]}
                )
            ticket.priority = priority
            ticket.sla_due_at = ticket.created_at + timedelta(hours=ticket_sla_hours()[priority])
            fields += ["priority", "sla_due_at"]
        if fields:
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=[*fields, "updated_at"])
        if status and _set_status(ticket=ticket, status=status, actor=actor, note=note):
            member_notify(
                member=ticket.member,
                kind="feedback.status",
                title=_("Your feedback “%(subject)s” is now: %(status)s")
                % {"subject": ticket.subject, "status": ticket.get_status_display()},
                body=note,
                data={"ticket": ticket.public_id, "status": status},
            )
        audit_log_record(
            action="members.ticket.updated",
            actor_type="operator",
            actor_user=actor,
            target=ticket,
            target_id=ticket.public_id,
            before=before,
            after={"status": ticket.status, "assignee": ticket.assignee_id, "priority": ticket.priority},
            note=note,
        )
    return ticket


def ticket_close_by_member(*, ticket: Ticket, member: User, satisfaction: int | None) -> Ticket:
    if ticket.member_id != member.pk:
        raise Forbidden(_("This is not your ticket."))
    if satisfaction is not None and not 1 <= int(satisfaction) <= 5:
        raise ApplicationError(_("Rate from 1 to 5."), errors={"satisfaction": [_("Rate from 1 to 5.")]})
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise ApplicationError(_("This ticket is closed."), code="ticket_closed", status=409)
        ticket.satisfaction = satisfaction
        ticket.save(update_fields=["satisfaction"])
        _set_status(ticket=ticket, status=Ticket.Status.CLOSED, actor=member, note="closed by member")
    return ticket


def ticket_adopt(*, ticket: Ticket, actor: User, points: int = 0, note: str = "") -> Ticket:
    """Mark a suggestion adopted; publishes FEEDBACK_ADOPTED so the points app can reward it."""
    if points < 0:
        raise ApplicationError(
            _("Points cannot be negative."), errors={"points": [_("Points cannot be negative.")]}
        )
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.category != Ticket.Category.SUGGESTION:
            raise ApplicationError(_("Only suggestions can be adopted."), code="not_a_suggestion", status=409)
        if ticket.adopted:
            raise ApplicationError(
                _("This suggestion was already adopted."), code="already_adopted", status=409
            )
        ticket.adopted = True
        ticket.reward_points = int(points)
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["adopted", "reward_points", "updated_at"])
        audit_log_record(
            action="members.ticket.adopted",
            actor_type="operator",
            actor_user=actor,
            target=ticket,
            target_id=ticket.public_id,
            after={"points": ticket.reward_points},
            note=note,
        )
        events.publish(
            events.FEEDBACK_ADOPTED, member=ticket.member, ticket=ticket, points=ticket.reward_points
        )
        member_notify(
            member=ticket.member,
            kind="feedback.adopted",
            title=_("Your suggestion was adopted — thank you!"),
            body=(_("You will receive %(points)s points.") % {"points": points}) if points else "",
            data={"ticket": ticket.public_id, "points": points},
        )
    return ticket


def attachment_open(*, attachment: TicketAttachment, viewer) -> bytes:
    """Decrypted bytes for the ticket's member or an operator (not for other members)."""
    if viewer.pk != attachment.ticket.member_id and not viewer.is_staff:
        raise Forbidden(_("This is not your ticket."))
    if attachment.reply_id and attachment.reply.is_internal and not viewer.is_staff:
        raise Forbidden(_("This is not your ticket."))
    return encrypted_blob_read(attachment.storage_name)
