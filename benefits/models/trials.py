"""The free-trial centre (试用中心)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TrialProduct(models.Model):
    """A free-trial offer (试用): members apply in a window, some are selected, they report."""

    name = models.CharField(_("name"), max_length=100)
    sku = models.CharField(_("SKU"), max_length=64)
    description = models.TextField(_("description"), blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    apply_from = models.DateTimeField(_("applications open"))
    apply_until = models.DateTimeField(_("applications close"))
    report_points = models.PositiveIntegerField(_("points for a report"), default=0)
    tier_codes = models.JSONField(
        _("tier codes"), default=list, blank=True, help_text=_("Empty = every tier.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        ordering = ["-apply_from", "-id"]
        verbose_name = _("trial product")
        verbose_name_plural = _("trial products")
        constraints = [
            models.CheckConstraint(condition=Q(apply_until__gt=F("apply_from")), name="trial_apply_window"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="trial_quantity_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.apply_from and self.apply_until and self.apply_until <= self.apply_from:
            raise ValidationError({"apply_until": _("Applications must close after they open.")})
        if not isinstance(self.tier_codes, list) or not all(isinstance(c, str) for c in self.tier_codes):
            raise ValidationError({"tier_codes": _("A list of strings.")})

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.apply_from <= now < self.apply_until


class TrialApplication(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        SELECTED = "selected", _("Selected")
        NOT_SELECTED = "not_selected", _("Not selected")
        REPORTED = "reported", _("Reported")

    product = models.ForeignKey(
        TrialProduct, on_delete=models.CASCADE, related_name="applications", verbose_name=_("Product")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="trial_applications",
        verbose_name=_("Member"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLIED)
    reason = models.CharField(_("why I want to try it"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Decided at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("trial application")
        verbose_name_plural = _("trial applications")
        constraints = [
            models.UniqueConstraint(fields=["product", "member"], name="uniq_trial_application"),
        ]
        indexes = [models.Index(fields=["product", "status"], name="trial_app_status_idx")]

    def __str__(self) -> str:
        return f"{self.product} · {self.member}"


class TrialReport(models.Model):
    application = models.OneToOneField(
        TrialApplication, on_delete=models.CASCADE, related_name="report", verbose_name=_("Application")
    )
    text = models.TextField(_("report"))
    rating = models.PositiveSmallIntegerField(_("rating"))
    points_awarded = models.PositiveIntegerField(default=0, verbose_name=_("Points awarded"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("trial report")
        verbose_name_plural = _("trial reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="trial_report_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} ★{self.rating}"
