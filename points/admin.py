"""Back office for the points domain. Balances and the ledger are read-only; actions call services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

from . import services
from .models import (
    BehaviourEvent,
    EarningRule,
    Order,
    OrderItem,
    PointsAccount,
    PointsAdjustment,
    PointsEntry,
    PointsHold,
    PointsLot,
    PointsSettings,
    PromoMultiplier,
    ReconciliationDrift,
    ReconciliationReport,
    Refund,
    Reward,
    RewardRedemption,
    RuleAward,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PointsSettings)
class PointsSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "points_per_yuan",
        "max_order_ratio",
        "return_window_days",
        "expiry_policy",
        "expiry_months",
        "reminder_days_before",
        "adjustment_approval_threshold",
    ]

    def has_add_permission(self, request):
        return not PointsSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "member",
        "available",
        "pending",
        "held",
        "debt",
        "lifetime_earned",
        "lifetime_spent",
        "updated_at",
    ]
    search_fields = ["member__member_id", "member__phone", "member__email"]
    list_select_related = ["member"]
    show_full_result_count = False


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "kind",
        "amount",
        "balance_after",
        "source_type",
        "source_id",
        "actor",
        "reason",
    ]
    list_filter = ["kind", "source_type"]
    search_fields = ["account__member__member_id", "source_id"]
    list_select_related = ["account__member"]
    show_full_result_count = False


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "account",
        "state",
        "points",
        "remaining",
        "earned_at",
        "expires_at",
        "source_type",
        "source_id",
    ]
    list_filter = ["state", "source_type"]
    search_fields = ["account__member__member_id", "source_id"]
    list_select_related = ["account__member"]
    show_full_result_count = False


@admin.register(PointsHold)
class PointsHoldAdmin(ReadOnlyAdmin):
    list_display = [
        "hold_id",
        "account",
        "partner",
        "points",
        "captured_points",
        "status",
        "reference",
        "expires_at",
    ]
    list_filter = ["status"]
    search_fields = ["hold_id", "reference", "account__member__member_id"]
    list_select_related = ["account__member", "partner"]


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "event_type",
        "mode",
        "points_per_unit",
        "fixed_points",
        "priority",
        "is_active",
        "starts_at",
        "ends_at",
    ]
    list_filter = ["event_type", "mode", "is_active"]
    list_editable = ["is_active", "priority"]
    search_fields = ["name", "event_type"]
    fieldsets = [
        (None, {"fields": ["name", "event_type", "is_active", "priority"]}),
        (_("Points"), {"fields": ["mode", "points_per_unit", "fixed_points", "min_order_amount"]}),
        (_("Exclusions"), {"fields": ["excluded_categories", "excluded_skus"]}),
        (
            _("Caps per member"),
            {
                "fields": [
                    "max_times_per_day",
                    "max_times_per_month",
                    "max_points_per_day",
                    "max_points_per_month",
                ]
            },
        ),
        (
            _("Validity and multipliers"),
            {"fields": ["starts_at", "ends_at", "apply_tier_multiplier", "apply_promo_multiplier"]},
        ),
    ]


@admin.register(PromoMultiplier)
class PromoMultiplierAdmin(admin.ModelAdmin):
    list_display = ["name", "multiplier", "starts_at", "ends_at", "event_types", "is_active", "source"]
    list_filter = ["is_active"]


@admin.action(description=_("Approve (posts the adjustment; needs a second operator)"))
def approve_adjustments(modeladmin, request, queryset):
    for adjustment in queryset:
        try:
            services.points_adjustment_approve(adjustment=adjustment, approver=request.user, request=request)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{adjustment.adjustment_id}: {exc.message}", messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                gettext("%(adjustment)s: posted") % {"adjustment": adjustment.adjustment_id},
                messages.SUCCESS,
            )


@admin.action(description=_("Reject"))
def reject_adjustments(modeladmin, request, queryset):
    for adjustment in queryset:
        try:
            services.points_adjustment_reject(adjustment=adjustment, approver=request.user, request=request)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{adjustment.adjustment_id}: {exc.message}", messages.ERROR)


@admin.register(PointsAdjustment)
class PointsAdjustmentAdmin(admin.ModelAdmin):
    """Operators request adjustments here (member, points, reason); large ones wait for a
    different operator, who approves them with the action."""

    list_display = [
        "adjustment_id",
        "account",
        "points",
        "reason",
        "status",
        "requested_by_label",
        "decided_by",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["adjustment_id", "account__member__member_id", "reason"]
    actions = [approve_adjustments, reject_adjustments]
    list_select_related = ["account__member", "decided_by"]
    autocomplete_fields: list[str] = []
    raw_id_fields = ["account"]

    def get_fields(self, request, obj=None):
        return ["account", "points", "reason"] if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in PointsAdjustment._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            created = services.points_adjustment_request(
                member=obj.account.member,
                points=obj.points,
                reason=obj.reason,
                requested_by=request.user,
                request=request,
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = created.pk
        obj.adjustment_id = created.adjustment_id
        if created.status == PointsAdjustment.Status.PENDING:
            self.message_user(request, _("Waiting for a second operator's approval."), messages.WARNING)


class RewardRedemptionInline(admin.TabularInline):
    model = RewardRedemption
    extra = 0
    can_delete = False
    fields = ["redemption_id", "account", "quantity", "points", "status", "created_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "points_price",
        "stock",
        "per_member_limit",
        "is_active",
        "starts_at",
        "ends_at",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["code"]
    inlines = [RewardRedemptionInline]


@admin.register(RewardRedemption)
class RewardRedemptionAdmin(ReadOnlyAdmin):
    list_display = ["redemption_id", "reward", "account", "quantity", "points", "status", "created_at"]
    list_filter = ["status", "reward__kind"]
    search_fields = ["redemption_id", "account__member__member_id"]
    list_select_related = ["reward", "account__member"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "category", "quantity", "unit_price"]

    def has_add_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = [
        "refund_id",
        "amount",
        "points_reversed",
        "points_debt",
        "growth_reversed",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "order_id",
        "partner",
        "member",
        "amount",
        "currency",
        "channel",
        "status",
        "points_awarded",
        "paid_at",
    ]
    list_filter = ["status", "channel", "partner", "imported"]
    search_fields = ["order_id", "member__member_id"]
    date_hierarchy = "paid_at"
    inlines = [OrderItemInline, RefundInline]
    list_select_related = ["partner", "member"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return obj is not None and request.method == "GET"  # view with inlines, never edit


@admin.register(RuleAward)
class RuleAwardAdmin(ReadOnlyAdmin):
    list_display = [
        "rule",
        "account",
        "source_type",
        "source_id",
        "base_amount",
        "multiplier",
        "points",
        "reversed_points",
        "awarded_at",
    ]
    list_filter = ["rule"]
    list_select_related = ["rule", "account__member"]
    show_full_result_count = False


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "partner", "member", "type", "occurred_at", "points_awarded"]
    list_filter = ["type"]
    search_fields = ["event_id", "member__member_id"]
    list_select_related = ["partner", "member"]
    show_full_result_count = False


class DriftInline(admin.TabularInline):
    model = ReconciliationDrift
    extra = 0
    can_delete = False
    readonly_fields = ["account", "balance", "recorded", "from_entries", "from_lots"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "accounts_checked", "drift_count"]
    inlines = [DriftInline]
