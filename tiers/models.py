"""The tier engine's tables: tiers, growth value ledger, member tier state, paid membership."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Tier(models.Model):
    """A member tier (会员等级): how to reach it, how to keep it, what it gives."""

    class Qualification(models.TextChoices):
        GROWTH = "growth", _("Growth value in the window")
        SPEND_AND_ORDERS = "spend_and_orders", _("Spend and order count in the window")
        ANY = "any", _("Either growth value or spend and orders")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("0 is the entry tier."))
    name = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    description = models.TextField(_("description"), blank=True)
    badge_color = models.CharField(_("badge colour"), max_length=20, blank=True, default="#8a8f98")
    is_default = models.BooleanField(_("entry tier"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    qualification_mode = models.CharField(
        _("qualification"), max_length=20, choices=Qualification.choices, default=Qualification.GROWTH
    )
    growth_threshold = models.PositiveIntegerField(_("growth value threshold"), default=0)
    qualifying_spend = models.DecimalField(
        _("qualifying spend (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    qualifying_orders = models.PositiveIntegerField(_("qualifying orders"), null=True, blank=True)
    window_months = models.PositiveSmallIntegerField(
        _("rolling window (months)"), default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    retention_growth = models.PositiveIntegerField(
        _("growth value to keep the tier"),
        null=True,
        blank=True,
        help_text=_("Growth value in the window needed at re-evaluation (保级). Empty: must re-qualify."),
    )
    retention_spend = models.DecimalField(
        _("spend to keep the tier (CNY)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Spend in the window needed at re-evaluation. Empty: no spend requirement."),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace days"), default=30, help_text=_("Days between the retention warning and the downgrade.")
    )

    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    discount_rate = models.DecimalField(
        _("member price rate"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        help_text=_("Share of list price the member pays: 0.90 means 90% (10% off)."),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
    )
    benefit_codes = models.JSONField(
        _("benefit codes"),
        default=list,
        blank=True,
        help_text=_('Codes of the benefits granted, e.g. ["free_shipping", "birthday_gift"].'),
    )
    benefits_text = models.TextField(_("benefits (display text)"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_rate__gt=0) & Q(discount_rate__lte=1), name="tier_discount_rate_range"
            ),
            models.CheckConstraint(condition=Q(points_multiplier__gte=0), name="tier_multiplier_nonnegative"),
            models.CheckConstraint(
                condition=Q(qualifying_spend__isnull=True) | Q(qualifying_spend__gte=0),
                name="tier_qualifying_spend_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(retention_spend__isnull=True) | Q(retention_spend__gte=0),
                name="tier_retention_spend_nonnegative",
            ),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="uniq_tier_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.name_en}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.discount_rate is not None and not (Decimal("0") < self.discount_rate <= Decimal("1")):
            errors.setdefault("discount_rate", []).append(_("Must be more than 0 and at most 1."))
        if self.qualification_mode in (self.Qualification.SPEND_AND_ORDERS, self.Qualification.ANY):
            if self.qualifying_spend is None and self.qualifying_orders is None and not self.is_default:
                errors.setdefault("qualifying_spend", []).append(
                    _("Set a qualifying spend and/or order count for this qualification mode.")
                )
        if (
            self.retention_growth is not None
            and self.growth_threshold is not None
            and self.retention_growth > self.growth_threshold
        ):
            errors.setdefault("retention_growth", []).append(
                _("Keeping a tier cannot need more growth value than reaching it.")
            )
        if not isinstance(self.benefit_codes, list) or not all(
            isinstance(c, str) and c for c in self.benefit_codes
        ):
            errors.setdefault("benefit_codes", []).append(_("A list of benefit codes (strings)."))
        if self.rank is not None and self.growth_threshold is not None:
            others = Tier.objects.exclude(pk=self.pk) if self.pk else Tier.objects.all()
            lower = others.filter(rank__lt=self.rank).order_by("-rank").first()
            higher = others.filter(rank__gt=self.rank).order_by("rank").first()
            if lower is not None and self.growth_threshold <= lower.growth_threshold:
                errors.setdefault("growth_threshold", []).append(
                    _("Must be above %(tier)s's threshold (%(value)s).")
                    % {"tier": lower.name_en, "value": lower.growth_threshold}
                )
            if higher is not None and self.growth_threshold >= higher.growth_threshold:
                errors.setdefault("growth_threshold", []).append(
                    _("Must be below %(tier)s's threshold (%(value)s).")
                    % {"tier": higher.name_en, "value": higher.growth_threshold}
                )
            for field in ("qualifying_spend", "qualifying_orders"):
                mine = getattr(self, field)
                if mine is None:
                    continue
                low = (
                    others.filter(rank__lt=self.rank, **{f"{field}__isnull": False}).order_by("-rank").first()
                )
                if low is not None and mine <= getattr(low, field):
                    errors.setdefault(field, []).append(
                        _("Must be above %(tier)s's (%(value)s).")
                        % {"tier": low.name_en, "value": getattr(low, field)}
                    )
                high = (
                    others.filter(rank__gt=self.rank, **{f"{field}__isnull": False}).order_by("rank").first()
                )
                if high is not None and mine >= getattr(high, field):
                    errors.setdefault(field, []).append(
                        _("Must be below %(tier)s's (%(value)s).")
                        % {"tier": high.name_en, "value": getattr(high, field)}
                    )
        if self.is_default and self.rank not in (None, 0):
            errors.setdefault("is_default", []).append(_("The entry tier has rank 0."))
        if errors:
            raise ValidationError(errors)

    @property
    def display_name(self) -> str:
        from django.utils.translation import get_language

        lang = (get_language() or "zh-hans").lower()
        return self.name if lang.startswith("zh") else self.name_en

    @property
    def discount_percent_off(self) -> Decimal:
        return ((Decimal("1") - self.discount_rate) * 100).quantize(Decimal("1"))


class GrowthRule(models.Model):
    """Growth value for an activity (签到, review, share...): fixed per event, capped per day."""

    event_type = models.SlugField(_("event type"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    growth = models.PositiveIntegerField(_("growth value per event"))
    daily_cap = models.PositiveIntegerField(
        _("daily cap"),
        null=True,
        blank=True,
        help_text=_("Most growth value per member per day; empty: none."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["event_type"]
        verbose_name = _("growth rule")
        verbose_name_plural = _("growth rules")

    def __str__(self) -> str:
        return f"{self.event_type}: +{self.growth}"


class GrowthSettings(models.Model):
    """One row: growth value per currency unit spent (default 1 per CNY)."""

    growth_per_currency_unit = models.DecimalField(
        _("growth value per CNY spent"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    renewal_reminder_days = models.PositiveSmallIntegerField(
        _("remind auto-renew members this many days before the end"), default=3
    )

    class Meta:
        verbose_name = _("growth settings")
        verbose_name_plural = _("growth settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(growth_per_currency_unit__gte=0), name="growth_rate_nonnegative"
            )
        ]

    def __str__(self) -> str:
        return str(_("Growth settings"))


class GrowthEntry(models.Model):
    """One line of the growth value ledger (成长值明细). Append-only."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="growth_entries",
        verbose_name=_("Member"),
    )
    growth = models.IntegerField(_("growth value"))
    spend = models.DecimalField(_("qualifying spend"), max_digits=12, decimal_places=2, default=Decimal("0"))
    orders = models.IntegerField(_("orders"), default=0)
    source_type = models.CharField(_("source type"), max_length=40)
    source_id = models.CharField(_("source id"), max_length=128)
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("growth entry")
        verbose_name_plural = _("growth entries")
        constraints = [
            models.UniqueConstraint(fields=["source_type", "source_id"], name="uniq_growth_entry_source"),
        ]
        indexes = [models.Index(fields=["member", "occurred_at"], name="growth_member_occurred")]

    def __str__(self) -> str:
        return f"{self.growth:+d} {self.source_type}:{self.source_id}"


class MemberTier(models.Model):
    """A member's tier state: earned tier, lifetime growth, re-evaluation and grace, override."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tier_state",
        primary_key=True,
        verbose_name=_("Member"),
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+", verbose_name=_("earned tier"))
    tier_since = models.DateTimeField(_("tier since"), default=timezone.now)
    growth_total = models.BigIntegerField(_("lifetime growth value"), default=0)
    spend_total = models.DecimalField(
        _("lifetime spend"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    orders_total = models.IntegerField(_("lifetime orders"), default=0)
    evaluate_at = models.DateTimeField(
        _("next re-evaluation"), null=True, blank=True, help_text=_("When retention (保级) is checked.")
    )
    grace_until = models.DateTimeField(
        _("grace until"), null=True, blank=True, help_text=_("Set when retention failed; downgrade after it.")
    )
    override_tier = models.ForeignKey(
        Tier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("override tier"),
    )
    override_reason = models.CharField(_("override reason"), max_length=255, blank=True)
    override_until = models.DateTimeField(_("override until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("Updated at"))

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        indexes = [models.Index(fields=["evaluate_at"], name="membertier_evaluate_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(override_tier__isnull=True) | ~Q(override_reason=""),
                name="membertier_override_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.tier}"

    def override_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.override_tier_id is not None and (
            self.override_until is None or self.override_until > now
        )


class TierChange(models.Model):
    """Every change of a member's tier, with its reason (等级变更记录)."""

    class Source(models.TextChoices):
        GROWTH = "growth", _("Growth value")
        REEVALUATION = "reevaluation", _("Re-evaluation")
        SUBSCRIPTION = "subscription", _("Paid membership")
        OVERRIDE = "override", _("Manual override")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tier_changes",
        verbose_name=_("Member"),
    )
    from_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("From tier")
    )
    to_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("To tier")
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.CharField(_("actor"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        indexes = [models.Index(fields=["member", "created_at"], name="tierchange_member_at")]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_tier} → {self.to_tier} ({self.source})"

    @property
    def is_upgrade(self) -> bool:
        return (self.to_tier.rank if self.to_tier else -1) > (self.from_tier.rank if self.from_tier else -1)


class PaidPlan(models.Model):
    """A paid membership plan (付费会员, like 88VIP / Prime)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    price = models.DecimalField(_("price (CNY)"), max_digits=10, decimal_places=2)
    duration_days = models.PositiveIntegerField(_("duration (days)"), validators=[MinValueValidator(1)])
    auto_renew = models.BooleanField(_("auto-renew offered"), default=False)
    tier = models.ForeignKey(
        Tier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="paid_plans",
        verbose_name=_("granted tier"),
    )
    benefit_codes = models.JSONField(_("benefit codes"), default=list, blank=True)
    benefits_text = models.TextField(_("benefits (display text)"), blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["price", "code"]
        verbose_name = _("paid plan")
        verbose_name_plural = _("paid plans")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="paidplan_price_nonnegative"),
            models.CheckConstraint(condition=Q(duration_days__gte=1), name="paidplan_duration_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """One purchase of a paid plan. Purchases while active stack after the current end."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("Member"),
    )
    plan = models.ForeignKey(
        PaidPlan, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("Plan")
    )
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Partner"),
    )
    payment_reference = models.CharField(_("payment reference"), max_length=128, unique=True)
    price = models.DecimalField(_("price paid"), max_digits=10, decimal_places=2)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Reminded at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Ended at"))

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="subscription_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["member", "status", "ends_at"], name="subscription_member_status"),
            models.Index(fields=["status", "ends_at"], name="subscription_status_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.plan} ({self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d})"

    def is_current(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.ACTIVE and self.starts_at <= now < self.ends_at


class ReevaluationRun(models.Model):
    """Checkpoint of the re-evaluation job so that a crashed run resumes where it stopped."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("run status", "Running")
        DONE = "done", pgettext_lazy("run status", "Done")

    job = models.CharField(max_length=50, default="tiers.reevaluate", db_index=True, verbose_name=_("Job"))
    as_of = models.DateTimeField(
        help_text=_("The 'now' every chunk of this run evaluates against."), verbose_name=_("As of")
    )
    last_member_pk = models.BigIntegerField(default=0, verbose_name=_("Last member pk"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING, verbose_name=_("Status")
    )
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("Counts"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("Started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Finished at"))

    class Meta:
        verbose_name = _("reevaluation run")
        verbose_name_plural = _("reevaluation runs")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job"], condition=Q(status="running"), name="uniq_reevaluation_running"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.as_of:%Y-%m-%d %H:%M} {self.status} @{self.last_member_pk}"
