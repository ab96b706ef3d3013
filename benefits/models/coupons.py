"""Coupon templates, issued coupons and their history, tier entitlements, bulk issues."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.ids import new_code, new_public_id


def new_template_id() -> str:
    return new_public_id("ct", 12)


def new_coupon_code() -> str:
    return new_code(12)


class CouponTemplate(models.Model):
    """What a coupon is worth, when, where and to whom; how many exist; how it stacks."""

    class Kind(models.TextChoices):
        AMOUNT_OFF = "amount_off", _("Amount off above a threshold (满减)")
        PERCENT_OFF = "percent_off", _("Percent off with a cap (折扣)")
        FREE_SHIPPING = "free_shipping", _("Free shipping (包邮)")
        CASH_VOUCHER = "cash_voucher", _("Cash voucher (现金券)")

    class Validity(models.TextChoices):
        ABSOLUTE = "absolute", _("Fixed dates")
        RELATIVE = "relative", _("Days after issue")

    class Stacking(models.TextChoices):
        EXCLUSIVE = "exclusive", _("Exclusive: never combined")
        STACKABLE = "stackable", _("Stackable: one per stack group")

    public_id = models.CharField(_("id"), max_length=24, unique=True, default=new_template_id, editable=False)
    code = models.SlugField(
        _("code"), max_length=60, unique=True, help_text=_("Stable name, e.g. new_member_20")
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)

    threshold = models.DecimalField(
        _("threshold"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Minimum eligible subtotal after member price (0 = none)."),
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Amount off / voucher value."),
    )
    rate = models.DecimalField(
        _("rate"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Share of the price paid, e.g. 0.850 means 85折 (15 percent off)."),
    )
    cap = models.DecimalField(
        _("cap"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Largest discount (percent off)."),
    )

    validity = models.CharField(
        _("validity"), max_length=10, choices=Validity.choices, default=Validity.RELATIVE
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("valid days"), null=True, blank=True)

    total_quantity = models.PositiveIntegerField(
        _("total quantity"), null=True, blank=True, help_text=_("Stock of coupons; empty = unlimited.")
    )
    issued_count = models.PositiveIntegerField(_("issued"), default=0, editable=False)
    per_member_limit = models.PositiveIntegerField(
        pgettext_lazy("coupon template", "per-member limit"),
        null=True,
        blank=True,
        default=1,
        help_text=_("Empty = unlimited."),
    )

    # Scope: empty list = all.
    categories = models.JSONField(_("categories"), default=list, blank=True)
    skus = models.JSONField(_("SKUs"), default=list, blank=True)
    exclude_categories = models.JSONField(_("excluded categories"), default=list, blank=True)
    exclude_skus = models.JSONField(_("excluded SKUs"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    stores = models.JSONField(_("stores"), default=list, blank=True)
    tier_codes = models.JSONField(_("tier codes"), default=list, blank=True)

    stacking = models.CharField(
        _("stacking"), max_length=10, choices=Stacking.choices, default=Stacking.STACKABLE
    )
    stack_group = models.SlugField(
        _("stack group"),
        max_length=30,
        blank=True,
        help_text=_(
            "At most one coupon per group in an order; empty = by kind (discount / shipping / cash)."
        ),
    )

    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only this partner may issue it by API; empty = every partner."),
        verbose_name=_("Partner"),
    )
    api_issuable = models.BooleanField(_("issuable by API"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(total_quantity__isnull=True) | Q(issued_count__lte=F("total_quantity")),
                name="coupon_template_stock_not_exceeded",
            ),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="coupon_template_threshold_gte_0"),
            models.CheckConstraint(
                condition=~Q(kind__in=["amount_off", "cash_voucher"]) | Q(amount__gt=0),
                name="coupon_template_amount_required",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent_off") | (Q(rate__gt=0) & Q(rate__lt=1)),
                name="coupon_template_rate_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=(Q(validity="absolute") & Q(valid_until__isnull=False))
                | (Q(validity="relative") & Q(valid_days__gt=0)),
                name="coupon_template_validity_complete",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="coupon_template_valid_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def effective_stack_group(self) -> str:
        if self.stack_group:
            return self.stack_group
        return {
            self.Kind.AMOUNT_OFF: "discount",
            self.Kind.PERCENT_OFF: "discount",
            self.Kind.FREE_SHIPPING: "shipping",
            self.Kind.CASH_VOUCHER: "cash",
        }[self.kind]

    @property
    def remaining(self) -> int | None:
        if self.total_quantity is None:
            return None
        return max(self.total_quantity - self.issued_count, 0)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        if self.kind in (self.Kind.AMOUNT_OFF, self.Kind.CASH_VOUCHER) and not (
            self.amount and self.amount > 0
        ):
            errors["amount"] = _("An amount above zero is required for this kind.")
        if self.kind == self.Kind.PERCENT_OFF and not (self.rate and Decimal("0") < self.rate < Decimal("1")):
            errors["rate"] = _("A rate between 0 and 1 (e.g. 0.85) is required for percent off.")
        if self.kind == self.Kind.CASH_VOUCHER and self.threshold:
            errors["threshold"] = _("A cash voucher has no threshold.")
        if self.validity == self.Validity.ABSOLUTE and not self.valid_until:
            errors["valid_until"] = _("Fixed-date validity needs an end.")
        if self.validity == self.Validity.RELATIVE and not self.valid_days:
            errors["valid_days"] = _("Relative validity needs a number of days.")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = _("The end must be after the start.")
        for name in (
            "categories",
            "skus",
            "exclude_categories",
            "exclude_skus",
            "channels",
            "stores",
            "tier_codes",
        ):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[name] = _("A list of strings.")
        if errors:
            raise ValidationError(errors)


class Coupon(models.Model):
    """An issued coupon in a member's wallet."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        REDEEMED = "redeemed", _("Used")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    class Source(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        TIER = "tier", _("Tier entitlement")
        POINTS = "points", _("Points mall")
        OPERATOR = "operator", _("Operator")
        API = "api", _("API")

    code = models.CharField(_("code"), max_length=24, unique=True, default=new_coupon_code, editable=False)
    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("Template")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coupons", verbose_name=_("Member")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.CharField(_("issued by"), max_length=10, choices=Source.choices)
    source_ref = models.CharField(_("source reference"), max_length=100, blank=True)
    source_key = models.CharField(
        max_length=150,
        null=True,
        blank=True,
        help_text=_("Idempotency key of the issue, unique per template and member."),
        verbose_name=_("Source key"),
    )
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Issuing partner."),
        verbose_name=_("Partner"),
    )
    order_id = models.CharField(_("order"), max_length=100, blank=True)
    order_partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Order partner"),
    )
    order_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("Order amount")
    )
    discount_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("Discount amount")
    )
    redeemed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Redeemed at"))
    status_changed_at = models.DateTimeField(default=timezone.now, verbose_name=_("Status changed at"))
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Reminded at"))

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "member", "source_key"],
                condition=Q(source_key__isnull=False),
                name="uniq_coupon_source_key",
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=F("valid_from")), name="coupon_valid_window"),
            models.CheckConstraint(
                condition=~Q(status="redeemed") | (~Q(order_id="") & Q(redeemed_at__isnull=False)),
                name="coupon_redeemed_has_order",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__isnull=True) | Q(discount_amount__gte=0),
                name="coupon_discount_gte_0",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status", "valid_until"], name="coupon_wallet_idx"),
            models.Index(fields=["status", "valid_until"], name="coupon_expiry_idx"),
            models.Index(fields=["template", "member"], name="coupon_template_member_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class CouponEvent(models.Model):
    """Append-only history of a coupon: issued, redeemed, released, expired, revoked."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", pgettext_lazy("coupon event", "Redeemed")
        RELEASED = "released", pgettext_lazy("coupon event", "Released")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    coupon = models.ForeignKey(
        Coupon, on_delete=models.CASCADE, related_name="events", verbose_name=_("Coupon")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("Kind"))
    order_id = models.CharField(max_length=100, blank=True, verbose_name=_("Order ID"))
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, verbose_name=_("Amount")
    )
    actor = models.CharField(max_length=200, blank=True, verbose_name=_("Actor"))
    note = models.CharField(max_length=255, blank=True, verbose_name=_("Note"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("coupon event")
        verbose_name_plural = _("coupon events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["coupon", "kind", "order_id"], name="coupon_event_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.coupon_id} {self.kind}"


class TierCouponEntitlement(models.Model):
    """Members of a tier receive `quantity` coupons of a template every month."""

    tier_code = models.SlugField(_("tier code"), max_length=30)
    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="entitlements", verbose_name=_("Template")
    )
    quantity = models.PositiveSmallIntegerField(_("quantity per month"), default=1)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        ordering = ["tier_code", "id"]
        verbose_name = _("tier coupon entitlement")
        verbose_name_plural = _("tier coupon entitlements")
        constraints = [
            models.UniqueConstraint(fields=["tier_code", "template"], name="uniq_tier_coupon_entitlement"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="tier_coupon_entitlement_quantity_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier_code}: {self.quantity} × {self.template.code}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.template_id and self.template.per_member_limit is not None:
            raise ValidationError(
                {
                    "template": _(
                        "Monthly coupons add up: use a template without a per-member limit "
                        "(otherwise the second month is refused)."
                    )
                }
            )


class CouponBulkIssue(models.Model):
    """An operator's issue of one template to a filtered member list, run as a chunked job."""

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("bulk issue state", "Pending")
        RUNNING = "running", pgettext_lazy("bulk issue state", "Running")
        DONE = "done", pgettext_lazy("bulk issue state", "Done")
        FAILED = "failed", pgettext_lazy("bulk issue state", "Failed")

    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="bulk_issues", verbose_name=_("Template")
    )
    filters = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("status, channel, region, tier_codes, member_ids (lists or strings)."),
        verbose_name=pgettext_lazy("bulk issue", "Filters"),
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, verbose_name=_("State")
    )
    cursor = models.BigIntegerField(
        default=0, help_text=_("Last member pk processed (restart point)."), verbose_name=_("Cursor")
    )
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("Counts"))
    note = models.CharField(max_length=200, blank=True, verbose_name=_("Note"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Finished at"))
    error = models.TextField(blank=True, verbose_name=_("Error"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bulk coupon issue")
        verbose_name_plural = _("bulk coupon issues")

    def __str__(self) -> str:
        return f"#{self.pk} {self.template.code} ({self.state})"
