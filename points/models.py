"""The points ledger (积分): accounts, immutable entries, lots with expiry, holds, orders and
refunds, earning rules and promotional multipliers, behaviour events, adjustments, the
points mall and reconciliation.

Every balance column of PointsAccount is the sum of the matching `delta_*` column of its
entries; `available` is also the sum of the remaining points of its available lots,
`pending` of its pending lots and `held` of its active holds. The reconciliation job proves
it every night.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.ids import new_public_id


def _hold_id() -> str:
    return new_public_id("hold")


def _redemption_id() -> str:
    return new_public_id("rdm")


def _adjustment_id() -> str:
    return new_public_id("adj")


def _reward_code() -> str:
    return new_public_id("rwd", 12)


class ImmutableRowError(Exception):
    """Raised on an attempt to change or delete an immutable ledger row."""


class PointsSettings(models.Model):
    """The one row of programme settings (pk=1), editable in the admin."""

    class ExpiryPolicy(models.TextChoices):
        ROLLING = "rolling", _("Rolling: N months after earning")
        CALENDAR = "calendar", _("Calendar: end of the year after earning")
        NEVER = "never", _("Never expire")

    points_per_yuan = models.PositiveIntegerField(
        _("points per yuan"), default=100, help_text=_("How many points are worth 1.00 CNY at checkout.")
    )
    max_order_ratio = models.DecimalField(
        _("max order ratio"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.500"),
        help_text=_("At most this share of an order may be paid with points (0.5 = 50%)."),
    )
    return_window_days = models.PositiveIntegerField(
        _("return window (days)"),
        default=7,
        help_text=_("Order points stay pending this long after payment, then are confirmed."),
    )
    expiry_policy = models.CharField(
        _("expiry policy"), max_length=10, choices=ExpiryPolicy.choices, default=ExpiryPolicy.ROLLING
    )
    expiry_months = models.PositiveIntegerField(
        _("expiry months"), default=12, help_text=_("For the rolling policy.")
    )
    reminder_days_before = models.PositiveIntegerField(_("remind days before expiry"), default=30)
    adjustment_approval_threshold = models.PositiveIntegerField(
        _("adjustment approval threshold"),
        default=1000,
        help_text=_("Adjustments of more points than this need a second operator's approval."),
    )
    hold_default_seconds = models.PositiveIntegerField(_("default hold lifetime (seconds)"), default=900)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("Updated at"))

    class Meta:
        verbose_name = _("points settings")
        verbose_name_plural = _("points settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="points_settings_singleton"),
            models.CheckConstraint(
                condition=Q(max_order_ratio__gte=0) & Q(max_order_ratio__lte=1),
                name="points_settings_ratio_0_1",
            ),
            models.CheckConstraint(condition=Q(points_per_yuan__gt=0), name="points_settings_ppy_positive"),
        ]

    def __str__(self) -> str:
        return str(_("Points settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)


class PointsAccount(models.Model):
    """A member's balances. Changed only by ledger services, under a row lock, with F()."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="points_account",
        verbose_name=_("Member"),
    )
    available = models.BigIntegerField(default=0, verbose_name=_("Available"))
    pending = models.BigIntegerField(default=0, verbose_name=_("Pending"))
    held = models.BigIntegerField(default=0, verbose_name=_("Held"))
    debt = models.BigIntegerField(default=0, verbose_name=_("Debt"))
    lifetime_earned = models.BigIntegerField(default=0, verbose_name=_("Lifetime earned"))
    lifetime_spent = models.BigIntegerField(default=0, verbose_name=_("Lifetime spent"))
    lifetime_expired = models.BigIntegerField(default=0, verbose_name=_("Lifetime expired"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("Updated at"))

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(condition=Q(available__gte=0), name="points_account_available_gte_0"),
            models.CheckConstraint(condition=Q(pending__gte=0), name="points_account_pending_gte_0"),
            models.CheckConstraint(condition=Q(held__gte=0), name="points_account_held_gte_0"),
            models.CheckConstraint(condition=Q(debt__gte=0), name="points_account_debt_gte_0"),
            models.CheckConstraint(
                condition=Q(lifetime_earned__gte=0) & Q(lifetime_spent__gte=0) & Q(lifetime_expired__gte=0),
                name="points_account_lifetime_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.available}"


class PointsEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRowError("Points entries are immutable.")

    def delete(self):
        raise ImmutableRowError("Points entries are immutable.")

    def bulk_update(self, *args, **kwargs):
        raise ImmutableRowError("Points entries are immutable.")


class PointsEntry(models.Model):
    """One immutable line of the ledger. Its deltas say how each balance moved."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earned")
        CONFIRM = "confirm", _("Confirmed")
        REDEEM = "redeem", _("Redeemed")
        HOLD = "hold", _("Held")
        CAPTURE = "capture", _("Used at checkout")
        RELEASE = "release", _("Released")
        EXPIRE = "expire", _("Expired")
        REVERSE = "reverse", _("Reversed (refund)")
        ADJUST = "adjust", _("Adjusted")

    account = models.ForeignKey(
        PointsAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("Account")
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, db_index=True, verbose_name=_("Kind"))
    amount = models.BigIntegerField(
        help_text=_("Signed points of this line as the member sees it."), verbose_name=_("Amount")
    )
    delta_available = models.BigIntegerField(default=0, verbose_name=_("Delta available"))
    delta_pending = models.BigIntegerField(default=0, verbose_name=_("Delta pending"))
    delta_held = models.BigIntegerField(default=0, verbose_name=_("Delta held"))
    delta_debt = models.BigIntegerField(default=0, verbose_name=_("Delta debt"))
    balance_after = models.BigIntegerField(
        help_text=_("Available balance after this line."), verbose_name=_("Balance after")
    )
    source_type = models.CharField(max_length=30, verbose_name=_("Source type"))
    source_id = models.CharField(max_length=100, verbose_name=_("Source ID"))
    actor = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Who caused it: system, partner:…, user:…"),
        verbose_name=_("Actor"),
    )
    reason = models.CharField(max_length=255, blank=True, verbose_name=_("Reason"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))

    objects = PointsEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id"], name="uniq_points_entry_per_source"
            ),
        ]
        indexes = [models.Index(fields=["account", "-id"], name="points_entry_account_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.source_type}:{self.source_id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRowError("Points entries are immutable.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError("Points entries are immutable.")


class PointsLot(models.Model):
    """Points earned together (批次): they expire together and are spent FIFO by expires_at."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        AVAILABLE = "available", _("Available")

    account = models.ForeignKey(
        PointsAccount, on_delete=models.PROTECT, related_name="lots", verbose_name=_("Account")
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.AVAILABLE, verbose_name=_("State")
    )
    points = models.BigIntegerField(validators=[MinValueValidator(0)], verbose_name=_("Points"))
    remaining = models.BigIntegerField(verbose_name=_("Remaining"))
    earned_at = models.DateTimeField(default=timezone.now, verbose_name=_("Earned at"))
    confirm_after = models.DateTimeField(
        null=True, blank=True, help_text=_("For pending order points."), verbose_name=_("Confirm after")
    )
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Expires at"))
    source_type = models.CharField(max_length=30, verbose_name=_("Source type"))
    source_id = models.CharField(max_length=100, verbose_name=_("Source ID"))
    order = models.ForeignKey(
        "points.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("Order"),
    )

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="points_lot_points_gte_0"),
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("points")),
                name="points_lot_remaining_0_points",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "expires_at", "id"],
                name="points_lot_fifo",
                condition=Q(remaining__gt=0, state="available"),
            ),
            models.Index(
                fields=["expires_at"],
                name="points_lot_expiring",
                condition=Q(remaining__gt=0, state="available"),
            ),
            models.Index(
                fields=["confirm_after"],
                name="points_lot_to_confirm",
                condition=Q(state="pending", remaining__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Lot %(pk)s: %(remaining)s/%(points)s %(state)s") % {
            "pk": self.pk,
            "remaining": self.remaining,
            "points": self.points,
            "state": self.get_state_display(),
        }


class PointsHold(models.Model):
    """Points held for a checkout (积分抵现) until captured, released or expired."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CAPTURED = "captured", _("Captured")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")

    hold_id = models.CharField(
        max_length=40, unique=True, default=_hold_id, editable=False, verbose_name=_("Hold ID")
    )
    account = models.ForeignKey(
        PointsAccount, on_delete=models.PROTECT, related_name="holds", verbose_name=_("Account")
    )
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Partner"),
    )
    points = models.BigIntegerField(verbose_name=_("Points"))
    captured_points = models.BigIntegerField(default=0, verbose_name=_("Captured points"))
    reference = models.CharField(max_length=100, blank=True, verbose_name=_("Reference"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True, verbose_name=_("Status")
    )
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("Expires at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Settled at"))

    class Meta:
        verbose_name = _("points hold")
        verbose_name_plural = _("points holds")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="points_hold_points_gt_0"),
            models.CheckConstraint(
                condition=Q(captured_points__gte=0) & Q(captured_points__lte=models.F("points")),
                name="points_hold_captured_0_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hold_id} {self.points} {self.status}"


class HoldAllocation(models.Model):
    """Which lots a hold took its points from, so that a release gives them back."""

    hold = models.ForeignKey(
        PointsHold, on_delete=models.CASCADE, related_name="allocations", verbose_name=_("Hold")
    )
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="+", verbose_name=_("Lot"))
    points = models.BigIntegerField(verbose_name=_("Points"))

    class Meta:
        verbose_name = _("hold allocation")
        verbose_name_plural = _("hold allocations")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="points_hold_allocation_gt_0"),
            models.UniqueConstraint(fields=["hold", "lot"], name="uniq_hold_allocation_lot"),
        ]


# --- orders and refunds -------------------------------------------------------------------


class Order(models.Model):
    """A paid order from a partner (kept for analytics, points and growth)."""

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")
        COMPLETED = "completed", _("Completed")

    partner = models.ForeignKey(
        "core.Partner", on_delete=models.PROTECT, related_name="+", verbose_name=_("Partner")
    )
    order_id = models.CharField(max_length=64, verbose_name=_("Order ID"))
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("Member")
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("Amount"))
    currency = models.CharField(max_length=3, default="CNY", verbose_name=_("Currency"))
    channel = models.CharField(max_length=30, blank=True, db_index=True, verbose_name=_("Channel"))
    store_id = models.CharField(max_length=64, blank=True, verbose_name=_("Store ID"))
    paid_at = models.DateTimeField(db_index=True, verbose_name=_("Paid at"))
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PAID, db_index=True, verbose_name=_("Status")
    )
    refunded_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), verbose_name=_("Refunded amount")
    )
    points_awarded = models.BigIntegerField(default=0, verbose_name=_("Points awarded"))
    growth_value = models.BigIntegerField(default=0, verbose_name=_("Growth value"))
    tier_code = models.CharField(
        max_length=40, blank=True, help_text=_("Member's tier after this order."), verbose_name=_("Tier code")
    )
    imported = models.BooleanField(default=False, verbose_name=_("Imported"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Confirmed at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = pgettext_lazy("model", "orders")
        constraints = [
            models.UniqueConstraint(fields=["partner", "order_id"], name="uniq_order_per_partner"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="points_order_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("amount")),
                name="points_order_refunds_le_amount",
            ),
        ]
        indexes = [models.Index(fields=["member", "-paid_at"], name="points_order_member_paid")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount} {self.currency}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("Order"))
    sku = models.CharField(max_length=64, verbose_name=_("SKU"))
    category = models.CharField(max_length=64, blank=True, db_index=True, verbose_name=_("Category"))
    quantity = models.PositiveIntegerField(default=1, verbose_name=_("Quantity"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("Unit price"))

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="points_order_item_price_gte_0"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="points_order_item_qty_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class Refund(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("Order")
    )
    refund_id = models.CharField(max_length=64, verbose_name=_("Refund ID"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("Amount"))
    items = models.JSONField(default=list, blank=True, verbose_name=_("Items"))
    points_reversed = models.BigIntegerField(default=0, verbose_name=_("Points reversed"))
    points_debt = models.BigIntegerField(default=0, verbose_name=_("Points debt"))
    growth_reversed = models.BigIntegerField(default=0, verbose_name=_("Growth reversed"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(fields=["order", "refund_id"], name="uniq_refund_per_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="points_refund_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount}"


# --- earning rules ------------------------------------------------------------------------


class EarningRule(models.Model):
    """How many points an event earns (积分规则); configured by operators in the admin."""

    class Mode(models.TextChoices):
        PER_UNIT = "per_unit", _("Points per currency unit")
        FIXED = "fixed", _("Fixed points")

    name = models.CharField(_("name"), max_length=100)
    event_type = models.CharField(
        _("event type"),
        max_length=60,
        db_index=True,
        help_text=_(
            "order_paid, review, share, check_in, registration, profile_completed, birthday, "
            "referral, feedback_adopted or custom:<name>"
        ),
    )
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.FIXED)
    points_per_unit = models.DecimalField(
        _("points per unit"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("e.g. 1 per CNY"),
    )
    fixed_points = models.PositiveIntegerField(_("fixed points"), default=0)
    min_order_amount = models.DecimalField(
        _("minimum order amount"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    excluded_categories = models.JSONField(_("excluded categories"), default=list, blank=True)
    excluded_skus = models.JSONField(_("excluded SKUs"), default=list, blank=True)
    max_times_per_day = models.PositiveIntegerField(_("max times per day"), null=True, blank=True)
    max_times_per_month = models.PositiveIntegerField(_("max times per month"), null=True, blank=True)
    max_points_per_day = models.PositiveIntegerField(_("max points per day"), null=True, blank=True)
    max_points_per_month = models.PositiveIntegerField(_("max points per month"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Lower runs first."))
    is_active = models.BooleanField(_("active"), default=True)
    apply_tier_multiplier = models.BooleanField(_("tier multiplier applies"), default=True)
    apply_promo_multiplier = models.BooleanField(_("promotional multipliers apply"), default=True)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_per_unit__gte=0), name="points_rule_ppu_gte_0"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="points_rule_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.event_type})"

    def clean(self) -> None:
        errors = {}
        if self.mode == self.Mode.PER_UNIT and self.points_per_unit <= 0:
            errors["points_per_unit"] = [_("Give the points per currency unit.")]
        if self.mode == self.Mode.FIXED and self.fixed_points <= 0:
            errors["fixed_points"] = [_("Give the fixed points.")]
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = [_("The end must be after the start.")]
        if not isinstance(self.excluded_categories, list):
            errors["excluded_categories"] = [_("A list of category names.")]
        if not isinstance(self.excluded_skus, list):
            errors["excluded_skus"] = [_("A list of SKUs.")]
        if errors:
            raise ValidationError(errors)


class PromoMultiplier(models.Model):
    """A promotional earning multiplier for a time window (e.g. 双11 double points)."""

    name = models.CharField(_("name"), max_length=100)
    multiplier = models.DecimalField(_("multiplier"), max_digits=5, decimal_places=2)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Empty: every event type.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    source = models.CharField(
        max_length=100, blank=True, help_text=_("Who created it, e.g. campaign:12"), verbose_name=_("Source")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("promotional multiplier")
        verbose_name_plural = _("promotional multipliers")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(multiplier__gte=1), name="points_promo_multiplier_gte_1"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="points_promo_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.multiplier}"


class BehaviourEvent(models.Model):
    """Behaviour events as they arrive (append-only), unique per partner and event_id."""

    partner = models.ForeignKey(
        "core.Partner", on_delete=models.PROTECT, related_name="+", verbose_name=_("Partner")
    )
    event_id = models.CharField(max_length=64, verbose_name=_("Event ID"))
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("Member")
    )
    type = models.CharField(max_length=60, db_index=True, verbose_name=_("Type"))
    occurred_at = models.DateTimeField(db_index=True, verbose_name=_("Occurred at"))
    properties = models.JSONField(default=dict, blank=True, verbose_name=_("Properties"))
    points_awarded = models.BigIntegerField(default=0, verbose_name=_("Points awarded"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("Received at"))

    class Meta:
        verbose_name = _("behaviour event")
        verbose_name_plural = _("behaviour events")
        constraints = [
            models.UniqueConstraint(fields=["partner", "event_id"], name="uniq_behaviour_event_per_partner")
        ]
        indexes = [models.Index(fields=["member", "type", "occurred_at"], name="points_bevent_member_type")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RuleAward(models.Model):
    """Points one earning rule gave for one source (order, event, member milestone).

    For orders these are the OrderAward rows: refunds reverse exactly these points
    proportionally (`reversed_points`), never a recomputation under today's rules.
    """

    rule = models.ForeignKey(
        EarningRule, on_delete=models.PROTECT, related_name="awards", verbose_name=_("Rule")
    )
    account = models.ForeignKey(
        PointsAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("Account")
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="awards", verbose_name=_("Order")
    )
    source_type = models.CharField(max_length=30, verbose_name=_("Source type"))
    source_id = models.CharField(max_length=100, verbose_name=_("Source ID"))
    base_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00"), verbose_name=_("Base amount")
    )
    multiplier = models.DecimalField(
        max_digits=7, decimal_places=3, default=Decimal("1"), verbose_name=_("Multiplier")
    )
    points = models.BigIntegerField(verbose_name=_("Points"))
    reversed_points = models.BigIntegerField(default=0, verbose_name=_("Reversed points"))
    awarded_at = models.DateTimeField(default=timezone.now, verbose_name=_("Awarded at"))

    class Meta:
        verbose_name = _("rule award")
        verbose_name_plural = _("rule awards")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "source_type", "source_id"], name="uniq_rule_award_per_source"
            ),
            models.CheckConstraint(
                condition=Q(reversed_points__gte=0) & Q(reversed_points__lte=models.F("points")),
                name="points_award_reversed_le_points",
            ),
        ]
        indexes = [models.Index(fields=["account", "rule", "awarded_at"], name="points_award_caps")]


# --- adjustments --------------------------------------------------------------------------


class PointsAdjustment(models.Model):
    """An operator's (or partner's) correction; large ones wait for a second operator."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        POSTED = "posted", _("Posted")
        REJECTED = "rejected", _("Rejected")

    adjustment_id = models.CharField(
        max_length=40, unique=True, default=_adjustment_id, editable=False, verbose_name=_("Adjustment ID")
    )
    account = models.ForeignKey(
        PointsAccount, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("Account")
    )
    points = models.BigIntegerField(verbose_name=_("Points"))
    reason = models.CharField(max_length=255, verbose_name=_("Reason"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True, verbose_name=_("Status")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Requested by"),
    )
    requested_by_label = models.CharField(max_length=200, blank=True, verbose_name=_("Requested by label"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Decided at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("points adjustment")
        verbose_name_plural = _("points adjustments")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="points_adjustment_nonzero")]

    def __str__(self) -> str:
        return f"{self.adjustment_id} {self.points:+d} {self.status}"


# --- points mall --------------------------------------------------------------------------


class Reward(models.Model):
    """A points-mall reward (积分商城): goods, a coupon or a red packet (红包)."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods")
        COUPON = "coupon", _("Coupon")
        RED_PACKET = "red_packet", _("Red packet")

    code = models.CharField(max_length=40, unique=True, default=_reward_code, verbose_name=_("Code"))
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    points_price = models.PositiveIntegerField(_("price in points"))
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True, help_text=_("Empty: unlimited."))
    per_member_limit = models.PositiveIntegerField(_("per-member limit"), null=True, blank=True)
    starts_at = models.DateTimeField(_("available from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("available until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    coupon_template_ref = models.CharField(_("coupon template"), max_length=64, blank=True)
    red_packet_amount = models.DecimalField(
        _("red packet amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    sort_order = models.IntegerField(default=100, verbose_name=_("Sort order"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["sort_order", "points_price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_price__gt=0), name="points_reward_price_gt_0"),
            models.CheckConstraint(
                condition=~Q(kind="coupon") | ~Q(coupon_template_ref=""),
                name="points_reward_coupon_has_template",
            ),
            models.CheckConstraint(
                condition=~Q(kind="red_packet") | Q(red_packet_amount__gt=0),
                name="points_reward_red_packet_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.COUPON and not self.coupon_template_ref:
            raise ValidationError({"coupon_template_ref": _("A coupon reward needs a coupon template.")})
        if self.kind == self.Kind.RED_PACKET and not self.red_packet_amount:
            raise ValidationError({"red_packet_amount": _("A red packet needs an amount.")})


class RewardRedemption(models.Model):
    class Status(models.TextChoices):
        FULFILLED = "fulfilled", _("Fulfilled")
        PENDING = "pending", _("Awaiting fulfilment")

    redemption_id = models.CharField(
        max_length=40, unique=True, default=_redemption_id, editable=False, verbose_name=_("Redemption ID")
    )
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("Reward")
    )
    account = models.ForeignKey(
        PointsAccount, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("Account")
    )
    quantity = models.PositiveIntegerField(default=1, verbose_name=_("Quantity"))
    points = models.BigIntegerField(verbose_name=_("Points"))
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.FULFILLED, verbose_name=_("Status")
    )
    fulfilment = models.JSONField(default=dict, blank=True, verbose_name=_("Fulfilment"))
    partner = models.ForeignKey(
        "core.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Partner"),
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("Created at"))

    class Meta:
        verbose_name = _("reward redemption")
        verbose_name_plural = _("reward redemptions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="points_redemption_qty_gt_0"),
            models.CheckConstraint(condition=Q(points__gt=0), name="points_redemption_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.redemption_id} {self.reward} × {self.quantity}"


# --- reconciliation -----------------------------------------------------------------------


class ReconciliationReport(models.Model):
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("Started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("Finished at"))
    accounts_checked = models.BigIntegerField(default=0, verbose_name=_("Accounts checked"))
    drift_count = models.BigIntegerField(default=0, verbose_name=_("Drift count"))

    class Meta:
        verbose_name = _("reconciliation report")
        verbose_name_plural = _("reconciliation reports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return (
            f"{self.started_at:%Y-%m-%d %H:%M} · {self.accounts_checked} accounts · {self.drift_count} drift"
        )


class ReconciliationDrift(models.Model):
    report = models.ForeignKey(
        ReconciliationReport, on_delete=models.CASCADE, related_name="drifts", verbose_name=_("Report")
    )
    account = models.ForeignKey(
        PointsAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("Account")
    )
    balance = models.CharField(max_length=10, verbose_name=_("Balance"))  # available / pending / held / debt
    recorded = models.BigIntegerField(verbose_name=_("Recorded"))
    from_entries = models.BigIntegerField(verbose_name=_("From entries"))
    from_lots = models.BigIntegerField(null=True, blank=True, verbose_name=_("From lots"))

    class Meta:
        verbose_name = _("reconciliation drift")
        verbose_name_plural = _("reconciliation drifts")

    def __str__(self) -> str:
        return f"account {self.account_id} {self.balance}: {self.recorded} vs {self.from_entries}/{self.from_lots}"
