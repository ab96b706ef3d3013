"""Identity: members and operators are users of one model (operators are staff)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.ids import new_public_id


def new_member_id() -> str:
    return new_public_id("m", 16)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, *, email: str | None, phone: str | None, password: str | None, **extra):
        email = self.normalize_email(email) if email else None
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
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        CLOSED = "closed", _("Closed")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not given")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")
        OTHER = "other", _("Other")

    class Lifecycle(models.TextChoices):
        NEW = "new", _("New")
        GROWING = "growing", _("Growing")
        MATURE = "mature", _("Mature")
        DORMANT = "dormant", _("Dormant")
        CHURNED = "churned", _("Churned")

    member_id = models.CharField(
        _("member id"), max_length=24, unique=True, default=new_member_id, editable=False
    )
    email = models.EmailField(_("email"), max_length=254, unique=True, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, unique=True, null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)

    nickname = models.CharField(_("nickname"), max_length=50, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    region = models.CharField(_("region"), max_length=50, blank=True, db_index=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    status_reason = models.CharField(max_length=255, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=10, choices=Lifecycle.choices, default=Lifecycle.NEW, db_index=True
    )
    channel = models.CharField(_("registration channel"), max_length=30, blank=True, db_index=True)

    is_staff = models.BooleanField(_("operator"), default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False) | Q(status="closed"),
                name="user_has_contact_unless_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.nickname or self.email or self.phone or self.member_id

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.FROZEN

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class ExternalIdentity(models.Model):
    """A member's identity in another system: a partner's own account id, or a social open id."""

    member = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The partner whose account id this is (addressable as ext:<subject> by that partner).",
    )
    provider = models.CharField(max_length=30, help_text="shop, pos, app, wechat, qq, weibo...")
    subject = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
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

    member = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=50, db_index=True, help_text="e.g. points.expiring, tier.changed")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    channels = models.JSONField(default=list, blank=True)
    dedupe_key = models.CharField(max_length=150, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
