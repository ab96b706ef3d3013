"""Identity: members and operators are users of one model (operators are staff)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.ids import new_code, new_public_id


def new_member_id() -> str:
    return new_public_id("m", 16)


def new_referral_code() -> str:
    return new_code(10)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, *, email: str | None, phone: str | None, password: str | None, **extra):
        # Stored lower-case as a whole: look-ups are exact and use the unique index.
        email = self.normalize_email(email).lower() if email else None
        extra.setdefault("referral_code", new_referral_code())
        user = self.model(email=email, phone=phone or None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, *, phone=None, **extra):
        if not email and not phone:
            raise ValueError("A user needs an email or a phone number.")
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email=email, phone=phone, password=password, **extra)

    def create_superuser(self, email=None, password=None, *, phone=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email=email, phone=phone, password=password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A member of the platform (or, with is_staff, an operator of the back office)."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("member status", "Active")
        FROZEN = "frozen", pgettext_lazy("member status", "Frozen")
        CLOSED = "closed", pgettext_lazy("member status", "Closed")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not given")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")
        OTHER = "other", _("Other")

    class VerificationLevel(models.TextChoices):
        NONE = "none", _("Not verified")
        CONTACT = "contact", _("Contact verified")
        REAL_NAME = "real_name", _("Real-name verified")
        QUALIFIED = "qualified", _("Qualification approved")

    class Lifecycle(models.TextChoices):
        NEW = "new", pgettext_lazy("lifecycle", "New")
        GROWING = "growing", _("Growing")
        MATURE = "mature", _("Mature")
        DORMANT = "dormant", _("Dormant")
        CHURNED = "churned", _("Churned")

    member_id = models.CharField(
        _("member id"), max_length=24, unique=True, default=new_member_id, editable=False
    )
    email = models.EmailField(_("email"), max_length=254, unique=True, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, unique=True, null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Email verified at"))
    phone_verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Phone verified at"))

    nickname = models.CharField(_("nickname"), max_length=50, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    region = models.CharField(_("region"), max_length=50, blank=True, db_index=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    status_reason = models.CharField(max_length=255, blank=True, verbose_name=_("Status reason"))
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=10, choices=Lifecycle.choices, default=Lifecycle.NEW, db_index=True
    )
    channel = models.CharField(_("registration channel"), max_length=30, blank=True, db_index=True)
    referral_code = models.CharField(
        _("referral code"), max_length=16, unique=True, null=True, blank=True, default=new_referral_code
    )
    referred_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    verification_level = models.CharField(
        _("verification level"),
        max_length=10,
        choices=VerificationLevel.choices,
        default=VerificationLevel.NONE,
        db_index=True,
    )
    profile_completed_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("Profile completed at")
    )
    status_changed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Status changed at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Closed at"))

    is_staff = models.BooleanField(_("operator"), default=False)
    is_active = models.BooleanField(default=True, verbose_name=_("Is active"))
    date_joined = models.DateTimeField(_("joined"), default=timezone.now, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        permissions = [("view_pii", "Can view unmasked personal data (ID numbers, documents, contacts)")]
        indexes = [
            models.Index(fields=["nickname"], name="member_nickname_idx", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False) | Q(status="closed"),
                name="user_has_contact_unless_closed",
            ),
        ]

    def __str__(self) -> str:
        # Never a member's phone or email: str() ends up in admin titles, logs and audit rows.
        if self.is_staff:
            return self.nickname or self.email or self.member_id
        return self.nickname or self.member_id

    @property
    def display_name(self) -> str:
        """For the member's own pages."""
        return self.nickname or self.email or self.phone or self.member_id

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.FROZEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class ExternalIdentity(models.Model):
    """A member's identity in another system: a partner's own account id, or a social open id."""

    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="external_identities", verbose_name=_("Member")
    )
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The partner whose account id this is (addressable as ext:<subject> by that partner)."),
        verbose_name=_("Partner"),
    )
    provider = models.CharField(
        max_length=30, help_text=_("shop, pos, app, wechat, qq, weibo..."), verbose_name=_("Provider")
    )
    subject = models.CharField(max_length=128, verbose_name=_("Subject"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="uniq_external_identity_provider_subject"
            ),
            models.UniqueConstraint(
                fields=["partner", "subject"],
                condition=Q(partner__isnull=False),
                name="uniq_external_identity_partner_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.subject}"


class Notification(models.Model):
    """The member's in-site inbox (站内信); email/SMS copies go through their backends."""

    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("Member")
    )
    kind = models.CharField(
        max_length=50,
        db_index=True,
        help_text=_("e.g. points.expiring, tier.changed"),
        verbose_name=_("Kind"),
    )
    title = models.CharField(max_length=200, verbose_name=_("Title"))
    body = models.TextField(blank=True, verbose_name=_("Body"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("Data"))
    channels = models.JSONField(default=list, blank=True, verbose_name=_("Channels"))
    dedupe_key = models.CharField(max_length=150, null=True, blank=True, verbose_name=_("Dedupe key"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "dedupe_key"],
                name="uniq_notification_dedupe",
                condition=Q(dedupe_key__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Consent(models.Model):
    """A member's acceptance of a version of the terms or the privacy policy."""

    class Document(models.TextChoices):
        TERMS = "terms", _("Terms of service")
        PRIVACY = "privacy", _("Privacy policy")

    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="consents", verbose_name=_("Member")
    )
    document = models.CharField(max_length=10, choices=Document.choices, verbose_name=_("Document"))
    version = models.CharField(max_length=30, verbose_name=_("Version"))
    accepted_at = models.DateTimeField(default=timezone.now, verbose_name=_("Accepted at"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    user_agent = models.CharField(max_length=300, blank=True, verbose_name=_("User agent"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "document", "version"], name="uniq_consent_member_document_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document} {self.version}"


class RegistrationSource(models.Model):
    """Where a member came from: channel, UTM parameters, referrer page, offline store, partner."""

    member = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="registration_source", verbose_name=_("Member")
    )
    channel = models.CharField(max_length=30, blank=True, verbose_name=_("Channel"))
    utm_source = models.CharField(max_length=100, blank=True, verbose_name=_("UTM source"))
    utm_medium = models.CharField(max_length=100, blank=True, verbose_name=_("UTM medium"))
    utm_campaign = models.CharField(max_length=100, blank=True, verbose_name=_("UTM campaign"))
    referrer = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("HTTP referrer of the first page."),
        verbose_name=_("Referrer"),
    )
    store_id = models.CharField(max_length=50, blank=True, db_index=True, verbose_name=_("Store ID"))
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Partner"),
    )
    referral_code = models.CharField(
        max_length=16,
        blank=True,
        help_text=_("Invite code used at registration."),
        verbose_name=_("Referral code"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("registration source")
        verbose_name_plural = _("registration sources")

    def __str__(self) -> str:
        return f"{self.channel} {self.utm_source}".strip()


class VerificationCode(models.Model):
    """A one-time SMS/email code or emailed link token. Only an HMAC of the secret is stored."""

    class Purpose(models.TextChoices):
        REGISTER = "register", _("Registration")
        LOGIN = "login", _("Log in")
        RESET = "reset", _("Password reset")
        VERIFY_CONTACT = "verify_contact", _("Contact verification")
        CLOSE = "close", _("Account closure")

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    purpose = models.CharField(max_length=20, choices=Purpose.choices, verbose_name=_("Purpose"))
    channel = models.CharField(max_length=5, choices=Channel.choices, verbose_name=_("Channel"))
    target = models.CharField(
        max_length=254, help_text=_("Normalised phone number or email address."), verbose_name=_("Target")
    )
    code_hash = models.CharField(max_length=64, db_index=True, verbose_name=_("Code hash"))
    is_link = models.BooleanField(default=False, verbose_name=_("Is a link"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    expires_at = models.DateTimeField(verbose_name=_("Expires at"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Used at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("Attempts"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("Data"))

    class Meta:
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        indexes = [models.Index(fields=["target", "purpose", "-created_at"], name="vcode_target_purpose_idx")]
        constraints = [models.CheckConstraint(condition=Q(attempts__lte=100), name="vcode_attempts_bounded")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.purpose}:{self.target}"


class ThrottleBucket(models.Model):
    """A DB-backed rate-limit window (works across processes): at most `limit` hits per window."""

    key = models.CharField(max_length=300, unique=True, verbose_name=_("Key"))
    window_start = models.DateTimeField(verbose_name=_("Window start"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("Count"))

    class Meta:
        verbose_name = _("throttle bucket")
        verbose_name_plural = _("throttle buckets")

    def __str__(self) -> str:
        return f"{self.key} {self.count}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RealNameVerification(models.Model):
    """实名认证: name + PRC resident ID number. Name and number are encrypted at rest."""

    public_id = models.CharField(max_length=30, unique=True, verbose_name=_("Public ID"))
    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="real_name_verifications", verbose_name=_("Member")
    )
    name_encrypted = models.TextField(verbose_name=_("Name (encrypted)"))
    id_number_encrypted = models.TextField(verbose_name=_("ID number (encrypted)"))
    id_number_hash = models.CharField(
        max_length=64,
        db_index=True,
        help_text=_("HMAC, for duplicate checks."),
        verbose_name=_("ID number hash"),
    )
    id_number_masked = models.CharField(max_length=24, verbose_name=_("ID number (masked)"))
    name_masked = models.CharField(max_length=60, verbose_name=_("Name (masked)"))
    birth_date = models.DateField(verbose_name=_("Birth date"))
    region_code = models.CharField(max_length=6, verbose_name=_("Region code"))
    province = models.CharField(max_length=20, blank=True, verbose_name=_("Province"))
    status = models.CharField(
        max_length=10,
        choices=ReviewStatus.choices,
        default=ReviewStatus.PENDING,
        db_index=True,
        verbose_name=_("Status"),
    )
    auto_approved = models.BooleanField(default=False, verbose_name=_("Auto approved"))
    review_note = models.CharField(max_length=255, blank=True, verbose_name=_("Review note"))
    reviewed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Reviewed at"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("real-name verification")
        verbose_name_plural = _("real-name verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status="pending"), name="uniq_realname_pending_per_member"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(review_note=""), name="realname_rejection_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_masked} {self.id_number_masked}"


class QualificationDocument(models.Model):
    """A document for restricted services; bytes are encrypted before they reach storage."""

    class Kind(models.TextChoices):
        BUSINESS_LICENSE = "business_license", _("Business licence")
        STUDENT_CARD = "student_card", _("Student card")
        PROFESSIONAL = "professional", _("Professional certificate")
        OTHER = "other", _("Other")

    public_id = models.CharField(max_length=30, unique=True, verbose_name=_("Public ID"))
    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="documents", verbose_name=_("Member")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER, verbose_name=_("Kind"))
    storage_name = models.CharField(
        max_length=200, help_text=_("Encrypted blob in the default storage."), verbose_name=_("Storage name")
    )
    original_name = models.CharField(max_length=200, verbose_name=_("Original name"))
    content_type = models.CharField(max_length=100, verbose_name=_("Content type"))
    size = models.PositiveIntegerField(verbose_name=_("Size"))
    status = models.CharField(
        max_length=10,
        choices=ReviewStatus.choices,
        default=ReviewStatus.PENDING,
        db_index=True,
        verbose_name=_("Status"),
    )
    review_note = models.CharField(max_length=255, blank=True, verbose_name=_("Review note"))
    reviewed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Reviewed by"),
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Reviewed at"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("qualification document")
        verbose_name_plural = _("qualification documents")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(review_note=""), name="document_rejection_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"


class Ticket(models.Model):
    """会员反馈/投诉: a suggestion or complaint with SLA, assignee, status history and replies."""

    class Category(models.TextChoices):
        SUGGESTION = "suggestion", _("Suggestion")
        COMPLAINT = "complaint", _("Complaint")
        POINTS = "points", _("Points")
        ORDER = "order", _("Order")
        ACCOUNT = "account", _("Account")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("ticket status", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING_MEMBER = "waiting_member", _("Waiting for you")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", pgettext_lazy("ticket status", "Closed")

    public_id = models.CharField(max_length=30, unique=True, verbose_name=_("Public ID"))
    member = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("Member")
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, db_index=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("description"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    assignee = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        limit_choices_to={"is_staff": True},
        verbose_name=_("Assignee"),
    )
    sla_due_at = models.DateTimeField(_("SLA due"), db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("First response at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Resolved at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Closed at"))
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    adopted = models.BooleanField(
        default=False, help_text=_("A suggestion the team adopted."), verbose_name=_("Adopted")
    )
    reward_points = models.PositiveIntegerField(default=0, verbose_name=_("Reward points"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("Updated at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("feedback ticket")
        verbose_name_plural = _("feedback tickets")
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_1_5",
            ),
            models.CheckConstraint(
                condition=Q(reward_points=0) | Q(adopted=True), name="ticket_reward_only_if_adopted"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.subject}"

    @property
    def is_overdue(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS) and self.sla_due_at < timezone.now()


class TicketStatusChange(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("Ticket")
    )
    old_status = models.CharField(max_length=16, blank=True, verbose_name=_("Old status"))
    new_status = models.CharField(max_length=16, verbose_name=_("New status"))
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("Actor")
    )
    note = models.CharField(max_length=255, blank=True, verbose_name=_("Note"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("ticket status change")
        verbose_name_plural = _("ticket status changes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.old_status} → {self.new_status}"

    @property
    def new_status_label(self) -> str:
        return (
            str(Ticket.Status(self.new_status).label)
            if self.new_status in Ticket.Status.values
            else self.new_status
        )


class TicketReply(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="replies", verbose_name=_("Ticket")
    )
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("Author")
    )
    from_operator = models.BooleanField(default=False, verbose_name=_("From operator"))
    is_internal = models.BooleanField(
        default=False, help_text=_("Internal note: never shown to the member."), verbose_name=_("Is internal")
    )
    body = models.TextField(verbose_name=_("Body"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("ticket reply")
        ordering = ["created_at", "id"]
        verbose_name_plural = _("ticket replies")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(from_operator=True),
                name="ticket_internal_note_by_operator",
            )
        ]

    def __str__(self) -> str:
        return self.body[:50]


class TicketAttachment(models.Model):
    """A file attached to a ticket; stored encrypted like documents, served by a checked view."""

    public_id = models.CharField(max_length=30, unique=True, verbose_name=_("Public ID"))
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("Ticket")
    )
    reply = models.ForeignKey(
        TicketReply,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("Reply"),
    )
    storage_name = models.CharField(max_length=200, verbose_name=_("Storage name"))
    original_name = models.CharField(max_length=200, verbose_name=_("Original name"))
    content_type = models.CharField(max_length=100, verbose_name=_("Content type"))
    size = models.PositiveIntegerField(verbose_name=_("Size"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")

    def __str__(self) -> str:
        return self.original_name
