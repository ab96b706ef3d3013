"""Verification: contact level, real-name (实名认证) and qualification documents.

ID numbers, names and document bytes are encrypted at rest (members.crypto); every read of
an unmasked value goes through a service here that checks `members.view_pii` (or that the
reader is the owner, for their own documents) and writes an audit row.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import ApplicationError, Forbidden
from core.ids import new_public_id, random_string
from core.outbox import outbox_emit
from core.services import audit_log_record

from .. import crypto
from ..idcard import InvalidIdNumber, mask_id_number, mask_name, parse_id_number
from ..models import QualificationDocument, RealNameVerification, ReviewStatus, User
from .notify import member_notify

PII_PERMISSION = "members.view_pii"
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp"}
_MAGIC = {
    "application/pdf": lambda b: b.startswith(b"%PDF"),
    "image/jpeg": lambda b: b.startswith(b"\xff\xd8\xff"),
    "image/png": lambda b: b.startswith(b"\x89PNG"),
    "image/webp": lambda b: b.startswith(b"RIFF") and b[8:12] == b"WEBP",
}


def can_view_pii(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(PII_PERMISSION))


def member_verification_level_refresh(*, member: User) -> str:
    """Store the highest level reached: qualified > real_name > contact > none."""
    if member.documents.filter(status=ReviewStatus.APPROVED).exists():
        level = User.VerificationLevel.QUALIFIED
    elif member.real_name_verifications.filter(status=ReviewStatus.APPROVED).exists():
        level = User.VerificationLevel.REAL_NAME
    elif member.phone_verified_at or member.email_verified_at:
        level = User.VerificationLevel.CONTACT
    else:
        level = User.VerificationLevel.NONE
    if level != member.verification_level:
        member.verification_level = level
        User.objects.filter(pk=member.pk).update(verification_level=level)
    return level


def _announce_verified(*, member: User, level: str) -> None:
    member_verification_level_refresh(member=member)
    events.publish(events.MEMBER_VERIFIED, member=member, level=level)
    outbox_emit(type="member.verified", data={"member_id": member.member_id, "level": level})


def _actor_type(actor) -> str:
    return "operator" if getattr(actor, "is_staff", False) else "member"


def realname_submit(*, member: User, name: str, id_number: str, request=None) -> RealNameVerification:
    """Check the ID number; auto-approve when the checksum passes and the birthday (if the
    member gave one) matches, otherwise queue it for operator review."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 30:
        message = _("Enter your name as on your ID card.")
        raise ApplicationError(message, errors={"name": [message]})
    try:
        parsed = parse_id_number(id_number, today=timezone.localdate())
    except InvalidIdNumber as exc:
        raise ApplicationError(str(exc.args[0]), errors={"id_number": [str(exc.args[0])]})
    digest = crypto.pii_hash(parsed.number)
    with transaction.atomic():
        member = User.objects.select_for_update(of=("self",)).get(pk=member.pk)
        mine = RealNameVerification.objects.filter(member=member)
        if mine.filter(status=ReviewStatus.APPROVED).exists():
            raise ApplicationError(_("You are already real-name verified."), code="already_verified")
        if mine.filter(status=ReviewStatus.PENDING).exists():
            raise ApplicationError(
                _("Your previous request is still being reviewed."), code="verification_pending"
            )
        if (
            RealNameVerification.objects.filter(id_number_hash=digest, status=ReviewStatus.APPROVED)
            .exclude(member=member)
            .exists()
        ):
            message = _("This ID number is already verified on another account.")
            raise ApplicationError(message, code="id_number_taken", errors={"id_number": [message]})
        auto = member.birthday is None or member.birthday == parsed.birth_date
        now = timezone.now()
        verification = RealNameVerification.objects.create(
            public_id=new_public_id("rnv", 16),
            member=member,
            name_encrypted=crypto.encrypt_str(name),
            id_number_encrypted=crypto.encrypt_str(parsed.number),
            id_number_hash=digest,
            id_number_masked=mask_id_number(parsed.number),
            name_masked=mask_name(name),
            birth_date=parsed.birth_date,
            region_code=parsed.region_code,
            province=parsed.province,
            status=ReviewStatus.APPROVED if auto else ReviewStatus.PENDING,
            auto_approved=auto,
            review_note="" if auto else _("Birthday on the profile differs from the ID number."),
            reviewed_at=now if auto else None,
        )
        audit_log_record(
            action="members.realname.submitted",
            actor_type="member",
            actor_user=member,
            target=member,
            after={"verification": verification.public_id, "status": verification.status},
            request=request,
        )
        if auto:
            _realname_approved(member=member, verification=verification)
    return verification


def _realname_approved(*, member: User, verification: RealNameVerification) -> None:
    changed = []
    if member.birthday is None:
        member.birthday = verification.birth_date
        changed.append("birthday")
    if not member.region and verification.province:
        member.region = verification.province
        changed.append("region")
    if changed:
        member.save(update_fields=changed)
    _announce_verified(member=member, level="real_name")
    member_notify(member=member, kind="verification.approved", title=_("Real-name verification approved"))


def _review_reason(*, approve: bool, reason: str) -> str:
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ApplicationError(_("Give a reason for the rejection."), errors={"reason": [_("Required.")]})
    return reason


def _review_record(
    *, model, pk: int, actor: User, approve: bool, reason: str, request, already: str, action: str, key: str
):
    """An operator's decision on a pending review item (caller's transaction): lock, check, record, audit."""
    item = model.objects.select_for_update().select_related("member").get(pk=pk)
    if item.status != ReviewStatus.PENDING:
        raise ApplicationError(already, code="already_reviewed", status=409)
    item.status = ReviewStatus.APPROVED if approve else ReviewStatus.REJECTED
    item.review_note = reason
    item.reviewed_by = actor
    item.reviewed_at = timezone.now()
    item.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    audit_log_record(
        action=action,
        actor_type="operator",
        actor_user=actor,
        target=item.member,
        after={key: item.public_id, "status": item.status},
        note=reason,
        request=request,
    )
    return item


def realname_review(
    *, verification: RealNameVerification, actor: User, approve: bool, reason: str = "", request=None
) -> RealNameVerification:
    reason = _review_reason(approve=approve, reason=reason)
    with transaction.atomic():
        verification = _review_record(
            model=RealNameVerification,
            pk=verification.pk,
            actor=actor,
            approve=approve,
            reason=reason,
            request=request,
            already=_("This request was already reviewed."),
            action="members.realname.reviewed",
            key="verification",
        )
        if approve:
            _realname_approved(member=verification.member, verification=verification)
        else:
            member_notify(
                member=verification.member,
                kind="verification.rejected",
                title=_("Real-name verification rejected"),
                body=reason,
            )
    return verification


def realname_reveal(*, verification: RealNameVerification, viewer, request=None) -> dict[str, str]:
    """The unmasked name and ID number, for a `members.view_pii` holder; audited."""
    if not can_view_pii(viewer):
        raise Forbidden(_("You may not see unmasked personal data."))
    audit_log_record(
        action="members.pii.viewed",
        actor_type="operator",
        actor_user=viewer,
        target=verification.member,
        note=f"real-name verification {verification.public_id}",
        request=request,
    )
    return {
        "name": crypto.decrypt_str(verification.name_encrypted),
        "id_number": crypto.decrypt_str(verification.id_number_encrypted),
    }


def encrypted_blob_save(*, folder: str, data: bytes) -> str:
    """Encrypt bytes and save them under a random name in the default storage."""
    name = f"private/members/{folder}/{timezone.now():%Y/%m}/{random_string(24)}.bin"
    return default_storage.save(name, ContentFile(crypto.encrypt(data)))


def encrypted_blob_read(storage_name: str) -> bytes:
    with default_storage.open(storage_name, "rb") as fh:
        return crypto.decrypt(fh.read())


def upload_validate(uploaded, *, field_name: str = "file") -> bytes:
    if uploaded is None:
        raise ApplicationError(_("Choose a file."), errors={field_name: [_("Choose a file.")]})
    if uploaded.size > DOCUMENT_MAX_BYTES:
        message = _("The file is larger than 5 MB.")
        raise ApplicationError(message, errors={field_name: [message]})
    content_type = (getattr(uploaded, "content_type", "") or "").split(";")[0].strip()
    if content_type not in DOCUMENT_TYPES:
        message = _("Upload a PDF, JPEG, PNG or WebP file.")
        raise ApplicationError(message, errors={field_name: [message]})
    data = uploaded.read()
    if not _MAGIC[content_type](data):  # the declared type must match the bytes
        message = _("Upload a PDF, JPEG, PNG or WebP file.")
        raise ApplicationError(message, errors={field_name: [message]})
    return data


def document_upload(*, member: User, kind: str, uploaded, request=None) -> QualificationDocument:
    if kind not in QualificationDocument.Kind.values:
        raise ApplicationError(_("Choose a document type."), errors={"kind": [_("Choose a document type.")]})
    data = upload_validate(uploaded)
    storage_name = encrypted_blob_save(folder="documents", data=data)
    with transaction.atomic():
        document = QualificationDocument.objects.create(
            public_id=new_public_id("doc", 16),
            member=member,
            kind=kind,
            storage_name=storage_name,
            original_name=(uploaded.name or "document")[-200:],
            content_type=uploaded.content_type.split(";")[0].strip(),
            size=len(data),
        )
        audit_log_record(
            action="members.document.uploaded",
            actor_type="member",
            actor_user=member,
            target=member,
            after={"document": document.public_id, "kind": kind},
            request=request,
        )
    return document


def document_review(
    *, document: QualificationDocument, actor: User, approve: bool, reason: str = "", request=None
) -> QualificationDocument:
    reason = _review_reason(approve=approve, reason=reason)
    with transaction.atomic():
        document = _review_record(
            model=QualificationDocument,
            pk=document.pk,
            actor=actor,
            approve=approve,
            reason=reason,
            request=request,
            already=_("This document was already reviewed."),
            action="members.document.reviewed",
            key="document",
        )
        if approve:
            _announce_verified(member=document.member, level="qualification")
            member_notify(member=document.member, kind="verification.approved", title=_("Document approved"))
        else:
            member_notify(
                member=document.member,
                kind="verification.rejected",
                title=_("Document rejected"),
                body=reason,
            )
    return document


def document_open(*, document: QualificationDocument, viewer, request=None) -> bytes:
    """Decrypted bytes for the owner or a `members.view_pii` holder; every read is audited."""
    is_owner = getattr(viewer, "pk", None) == document.member_id
    if not is_owner and not can_view_pii(viewer):
        raise Forbidden(_("You may not open this document."))
    if not document.storage_name:
        raise ApplicationError(_("This document was removed."), code="not_found", status=404)
    audit_log_record(
        action="members.document.viewed",
        actor_type=_actor_type(viewer) if not is_owner else "member",
        actor_user=viewer,
        target=document.member,
        note=f"document {document.public_id}",
        request=request,
    )
    return encrypted_blob_read(document.storage_name)
