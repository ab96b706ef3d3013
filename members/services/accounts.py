"""Registration, profile, external identities and status (risk control) of members."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.errors import ApplicationError, Conflict, ErrorCode
from core.outbox import outbox_emit
from core.services import audit_log_record

from ..models import Consent, ExternalIdentity, RegistrationSource, User, VerificationCode
from .codes import code_verify, link_consume, link_issue, normalise_email, normalise_phone
from .notify import member_notify
from .verification import member_verification_level_refresh

PROFILE_FIELDS = ("nickname", "birthday", "gender", "region", "occupation")


@dataclass
class SourceInfo:
    """Where a registration came from (member centre: query string and headers; API: partner)."""

    channel: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer: str = ""
    store_id: str = ""
    partner: Any = None


@dataclass
class ConsentInfo:
    ip: str | None = None
    user_agent: str = ""
    documents: tuple[str, ...] = field(default=("terms", "privacy"))


def _field_error(field_name: str, message: str, *, code: str = ErrorCode.INVALID) -> ApplicationError:
    return ApplicationError(message, code=code, errors={field_name: [message]})


def referrer_resolve(referral_code: str) -> User | None:
    """The member owning an invite code; a field error for an unknown code, None for none."""
    code = (referral_code or "").strip().upper()
    if not code:
        return None
    referrer = User.objects.filter(referral_code=code, status=User.Status.ACTIVE).first()
    if referrer is None:
        raise _field_error("referral_code", _("This invite code does not exist."))
    return referrer


def _record_source(*, member: User, source: SourceInfo, referral_code: str) -> None:
    RegistrationSource.objects.create(
        member=member,
        channel=source.channel[:30],
        utm_source=source.utm_source[:100],
        utm_medium=source.utm_medium[:100],
        utm_campaign=source.utm_campaign[:100],
        referrer=source.referrer[:500],
        store_id=source.store_id[:50],
        partner=source.partner,
        referral_code=(referral_code or "").strip().upper()[:16],
    )


def consent_record(*, member: User, consent: ConsentInfo) -> None:
    versions = {
        Consent.Document.TERMS: settings.TERMS_VERSION,
        Consent.Document.PRIVACY: settings.PRIVACY_POLICY_VERSION,
    }
    now = timezone.now()
    for document in consent.documents:
        Consent.objects.get_or_create(
            member=member,
            document=document,
            version=versions[document],
            defaults={
                "accepted_at": now,
                "ip_address": consent.ip,
                "user_agent": (consent.user_agent or "")[:300],
            },
        )


def _contact_verified(*, member: User) -> None:
    """A phone or email was proven: MEMBER_VERIFIED(level="contact"); no webhook for this level."""
    member_verification_level_refresh(member=member)
    events.publish(events.MEMBER_VERIFIED, member=member, level="contact")


def _announce_registration(*, member: User, partner=None) -> None:
    events.publish(
        events.MEMBER_REGISTERED, member=member, channel=member.channel, referrer=member.referred_by
    )
    outbox_emit(
        type="member.created",
        data={"member_id": member.member_id, "channel": member.channel, "joined_at": member.date_joined},
        partner=partner,
    )


def member_register_by_phone(
    *,
    phone: str,
    code: str,
    consent: ConsentInfo,
    source: SourceInfo | None = None,
    nickname: str = "",
    referral_code: str = "",
) -> User:
    """Register with a phone number proven by an SMS code (purpose register)."""
    source = source or SourceInfo()
    phone = normalise_phone(phone)
    if User.objects.filter(phone=phone).exists():
        raise _field_error(
            "phone", _("This phone number is already registered: log in instead."), code="phone_taken"
        )
    referrer = referrer_resolve(referral_code)
    code_verify(
        channel=VerificationCode.Channel.SMS,
        target=phone,
        purpose=VerificationCode.Purpose.REGISTER,
        code=code,
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            member = User.objects.create_user(
                phone=phone,
                nickname=nickname[:50],
                channel=(source.channel or "web")[:30],
                referred_by=referrer,
                phone_verified_at=now,
            )
            _record_source(member=member, source=source, referral_code=referral_code)
            consent_record(member=member, consent=consent)
            _announce_registration(member=member)
            _contact_verified(member=member)
    except IntegrityError:
        raise _field_error(
            "phone", _("This phone number is already registered: log in instead."), code="phone_taken"
        )
    return member


def member_register_by_email(
    *,
    email: str,
    password: str,
    consent: ConsentInfo,
    source: SourceInfo | None = None,
    nickname: str = "",
    referral_code: str = "",
    ip: str | None = None,
    confirm_url_base: str = "",
) -> User:
    """Create an inactive account and email a confirmation link; the link activates it and
    sets the password chosen with it.

    Registering again with an address whose account was never confirmed sends a new link
    (so nobody can squat an address they do not own).
    """
    source = source or SourceInfo()
    email = normalise_email(email)
    referrer = referrer_resolve(referral_code)
    with transaction.atomic():
        member = User.objects.select_for_update().filter(email=email).first()
        pending = (
            member is not None
            and not member.is_active
            and member.email_verified_at is None
            and member.last_login is None
            and not member.is_staff
            and member.status == User.Status.ACTIVE
        )
        if member is not None and not pending:
            raise _field_error(
                "email", _("This email address is already registered: log in instead."), code="email_taken"
            )
        if member is None:
            member = User.objects.create_user(
                email=email,
                password=None,  # set from the link when it is opened
                nickname=nickname[:50],
                channel=(source.channel or "web")[:30],
                referred_by=referrer,
                is_active=False,
            )
            _record_source(member=member, source=source, referral_code=referral_code)
        else:
            member.nickname = nickname[:50] or member.nickname
            member.referred_by = referrer or member.referred_by
            member.save(update_fields=["nickname", "referred_by"])
        consent_record(member=member, consent=consent)
        # The password travels (hashed) with this link: whoever registers the address again
        # cannot change the password that the owner's own link will set.
        issued = link_issue(
            email=email,
            purpose=VerificationCode.Purpose.REGISTER,
            ip=ip,
            data={"member": member.pk, "password": make_password(password)},
        )
        link = confirm_url_base + reverse("members:register_confirm", args=[issued.secret])
        subject = _("Confirm your Memberhub account")
        body = _(
            "Open this link within 24 hours to confirm your email address and activate your account:\n%(link)s"
        ) % {"link": link}
        transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return member


def member_confirm_email(*, token: str) -> User:
    """Consume a registration link: the address is verified and the account activated."""
    with transaction.atomic():
        row = link_consume(token=token, purpose=VerificationCode.Purpose.REGISTER)
        member = User.objects.select_for_update().filter(pk=row.data.get("member"), email=row.target).first()
        if member is None:
            raise ApplicationError(_("This link is not valid or was already used."), code="link_invalid")
        first_time = not member.is_active
        member.is_active = True
        member.email_verified_at = member.email_verified_at or timezone.now()
        fields = ["is_active", "email_verified_at"]
        if first_time and row.data.get("password"):
            member.password = row.data["password"]
            fields.append("password")
        member.save(update_fields=fields)
        member_verification_level_refresh(member=member)
        if first_time:
            _announce_registration(member=member)
            _contact_verified(member=member)
    return member


def member_create_for_partner(
    *,
    partner,
    external_id: str,
    phone: str = "",
    email: str = "",
    name: str = "",
    birthday: date | None = None,
    gender: str = "",
    region: str = "",
    channel: str = "",
    referral_code: str = "",
) -> User:
    """A partner system creates a member and binds its own account id (addressable as ext:<id>)."""
    existing = (
        ExternalIdentity.objects.filter(partner=partner, subject=external_id).select_related("member").first()
    )
    if existing is not None:
        raise Conflict(
            _("A member with this external_id exists."),
            code=ErrorCode.MEMBER_EXISTS,
            extra={"member_id": existing.member.member_id},
        )
    phone = normalise_phone(phone) if phone else ""
    email = normalise_email(email) if email else ""
    for field_name, value in (("phone", phone), ("email", email)):
        if not value:
            continue
        lookup = {field_name: value}
        other = User.objects.filter(**lookup).values_list("member_id", flat=True).first()
        if other:
            raise Conflict(
                _("A member with this %(field)s exists; bind your external id to it instead.")
                % {"field": field_name},
                code=ErrorCode.MEMBER_EXISTS,
                errors={field_name: [_("Already registered.")]},
                extra={"member_id": other},
            )
    referrer = referrer_resolve(referral_code)
    try:
        with transaction.atomic():
            member = User.objects.create_user(
                email=email or None,
                phone=phone or None,
                nickname=name[:50],
                birthday=birthday,
                gender=gender or "",
                region=region[:50],
                channel=(channel or partner.name)[:30],
                referred_by=referrer,
            )
            ExternalIdentity.objects.create(
                member=member, partner=partner, provider=partner.name[:30], subject=external_id
            )
            _record_source(
                member=member,
                source=SourceInfo(channel=member.channel, partner=partner),
                referral_code=referral_code,
            )
            _profile_completion_check(member=member)
            _announce_registration(member=member, partner=partner)
    except IntegrityError:
        existing = (
            ExternalIdentity.objects.filter(partner=partner, subject=external_id)
            .select_related("member")
            .first()
        )
        raise Conflict(
            _("A member with this external_id exists."),
            code=ErrorCode.MEMBER_EXISTS,
            extra={"member_id": existing.member.member_id} if existing else {},
        )
    return member


def profile_completeness(member: User) -> int:
    """Percentage of the profile filled in: the five profile fields and a verified contact."""
    filled = sum(1 for name in PROFILE_FIELDS if getattr(member, name))
    filled += 1 if (member.phone_verified_at or member.email_verified_at) else 0
    return round(filled * 100 / (len(PROFILE_FIELDS) + 1))


def _profile_completion_check(*, member: User) -> None:
    if member.profile_completed_at is None and profile_completeness(member) == 100:
        member.profile_completed_at = timezone.now()
        User.objects.filter(pk=member.pk).update(profile_completed_at=member.profile_completed_at)
        events.publish(events.MEMBER_PROFILE_COMPLETED, member=member)


def member_profile_update(*, member: User, actor_type: str = "member", actor=None, **changes: Any) -> User:
    """Update profile fields (nickname, birthday, gender, region, occupation).

    The first time the profile reaches 100%, MEMBER_PROFILE_COMPLETED is published (once).
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown profile fields: {', '.join(sorted(unknown))}")
    birthday = changes.get("birthday")
    if birthday and birthday > timezone.localdate():
        raise _field_error("birthday", _("The birthday cannot be in the future."))
    if "gender" in changes and (changes["gender"] or "") not in User.Gender.values:
        raise _field_error("gender", _("Choose a valid gender."))
    with transaction.atomic():
        member = User.objects.select_for_update(of=("self",)).get(pk=member.pk)
        if member.status == User.Status.CLOSED:
            raise ApplicationError(_("This account is closed."), code=ErrorCode.MEMBER_CLOSED, status=409)
        before = {k: getattr(member, k) for k in changes}
        for key, value in changes.items():
            setattr(member, key, value if value is not None or key == "birthday" else "")
        member.save(update_fields=list(changes))
        if actor_type != "member":
            audit_log_record(
                action="members.profile.updated",
                actor_type=actor_type,
                actor_user=actor if isinstance(actor, User) else None,
                actor_label=str(actor) if actor is not None else "",
                target=member,
                before={k: str(v) for k, v in before.items()},
                after={k: str(getattr(member, k)) for k in changes},
            )
        _profile_completion_check(member=member)
    return member


def member_identity_bind(*, member: User, partner, provider: str, subject: str) -> ExternalIdentity:
    """Bind an external identity (shop account id, WeChat/QQ/Weibo open id) to a member."""
    if member.status == User.Status.CLOSED:
        raise ApplicationError(_("This account is closed."), code=ErrorCode.MEMBER_CLOSED, status=409)
    provider = (provider or "").strip()[:30]
    subject = (subject or "").strip()
    current = ExternalIdentity.objects.filter(provider=provider, subject=subject).first()
    if current is not None:
        if current.member_id == member.pk:
            return current
        raise Conflict(
            _("This identity is bound to another member."),
            code="identity_exists",
            errors={"subject": [_("Already bound to another member.")]},
        )
    if partner is not None and ExternalIdentity.objects.filter(partner=partner, subject=subject).exists():
        raise Conflict(
            _("This partner already uses this subject for another identity."),
            code="identity_exists",
            errors={"subject": [_("Already bound.")]},
        )
    try:
        with transaction.atomic():
            return ExternalIdentity.objects.create(
                member=member, partner=partner, provider=provider, subject=subject
            )
    except IntegrityError:
        raise Conflict(_("This identity is bound to another member."), code="identity_exists")


def _status_change(*, member: User, new: str, reason: str, actor, request, action: str) -> User:
    with transaction.atomic():
        member = User.objects.select_for_update(of=("self",)).get(pk=member.pk)
        old = member.status
        if old == User.Status.CLOSED:
            raise ApplicationError(_("This account is closed."), code=ErrorCode.MEMBER_CLOSED, status=409)
        if old == new:
            return member
        member.status = new
        member.status_reason = reason[:255]
        member.status_changed_at = timezone.now()
        member.save(update_fields=["status", "status_reason", "status_changed_at"])
        audit_log_record(
            action=action,
            actor_type="operator" if getattr(actor, "is_staff", False) else "system",
            actor_user=actor,
            target=member,
            before={"status": old},
            after={"status": new},
            request=request,
            note=reason,
        )
        events.publish(events.MEMBER_STATUS_CHANGED, member=member, old=old, new=new, reason=reason)
    return member


def member_freeze(*, member: User, reason: str, actor=None, request=None) -> User:
    """Risk control: a frozen member can neither earn nor spend (member_assert_can_transact)."""
    if not (reason or "").strip():
        raise _field_error("reason", _("Give a reason for freezing."))
    member = _status_change(
        member=member,
        new=User.Status.FROZEN,
        reason=reason.strip(),
        actor=actor,
        request=request,
        action="members.frozen",
    )
    member_notify(
        member=member,
        kind="account.frozen",
        title=_("Your account has been frozen"),
        body=_("Reason: %(reason)s. Contact customer service if you think this is a mistake.")
        % {"reason": reason},
    )
    return member


def member_unfreeze(*, member: User, reason: str = "", actor=None, request=None) -> User:
    member = _status_change(
        member=member,
        new=User.Status.ACTIVE,
        reason=reason.strip(),
        actor=actor,
        request=request,
        action="members.unfrozen",
    )
    member_notify(
        member=member, kind="account.unfrozen", title=_("Your account is active again"), body=reason
    )
    return member


def member_login_by_code(*, phone: str, code: str) -> User:
    """Check an SMS log-in code and return the account; the number counts as verified."""
    phone = normalise_phone(phone)
    code_verify(
        channel=VerificationCode.Channel.SMS, target=phone, purpose=VerificationCode.Purpose.LOGIN, code=code
    )
    member = User.objects.filter(phone=phone, is_active=True).exclude(status=User.Status.CLOSED).first()
    if member is None:
        raise _field_error(
            "phone", _("No account uses this number: register first."), code="member_not_found"
        )
    if member.phone_verified_at is None:
        member.phone_verified_at = timezone.now()
        User.objects.filter(pk=member.pk).update(phone_verified_at=member.phone_verified_at)
        _contact_verified(member=member)
        _profile_completion_check(member=member)
    return member


def member_password_set_by_code(*, phone: str, code: str, password: str) -> User:
    """Reset a password with an SMS code (purpose reset) — for members without an email."""
    phone = normalise_phone(phone)
    member = User.objects.filter(phone=phone).exclude(status=User.Status.CLOSED).first()
    code_verify(
        channel=VerificationCode.Channel.SMS, target=phone, purpose=VerificationCode.Purpose.RESET, code=code
    )
    if member is None:
        raise _field_error("phone", _("No account uses this phone number."))
    member.set_password(password)
    member.save(update_fields=["password"])
    return member


def member_contact_verify(*, member: User, channel: str, target: str, code: str) -> User:
    """Prove a phone or email with a code (purpose verify_contact) and set it on the member."""
    code_verify(channel=channel, target=target, purpose=VerificationCode.Purpose.VERIFY_CONTACT, code=code)
    now = timezone.now()
    field_name = "phone" if channel == VerificationCode.Channel.SMS else "email"
    value = normalise_phone(target) if field_name == "phone" else normalise_email(target)
    try:
        with transaction.atomic():
            member = User.objects.select_for_update(of=("self",)).get(pk=member.pk)
            setattr(member, field_name, value)
            setattr(member, f"{field_name}_verified_at", now)
            member.save(update_fields=[field_name, f"{field_name}_verified_at"])
            _contact_verified(member=member)
            _profile_completion_check(member=member)
    except IntegrityError:
        raise _field_error(field_name, _("Another account uses this value."))
    return member
