"""The benefit catalogue (权益目录)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Benefit(models.Model):
    """One entitlement in the catalogue; tiers and paid plans refer to it by `code`."""

    class Kind(models.TextChoices):
        PRICE = "price", _("Price")
        SHIPPING = "shipping", _("Shipping")
        SERVICE = "service", _("Service")
        GIFT = "gift", _("Gift")
        EVENT = "event", _("Event")
        ACCESS = "access", _("Access")
        TRIAL = "trial", _("Trial")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    icon = models.CharField(_("icon"), max_length=8, blank=True, help_text=_("An emoji."))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")

    def __str__(self) -> str:
        return f"{self.icon} {self.name_zh} / {self.name_en}".strip()

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def description(self) -> str:
        zh = (get_language() or "").startswith("zh")
        return (self.description_zh if zh else self.description_en) or self.description_en
