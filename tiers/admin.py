"""Back office: tier configuration, growth rules, paid plans, member tier state and history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin

from .forms import MemberTierOverrideForm
from .models import (
    GrowthEntry,
    GrowthRule,
    GrowthSettings,
    MemberTier,
    PaidPlan,
    ReevaluationRun,
    Subscription,
    Tier,
    TierChange,
)
from .services import member_tier_reevaluate, subscription_cancel, tier_override_clear, tier_override_set


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = [
        "rank",
        "code",
        "name",
        "name_en",
        "qualification_mode",
        "growth_threshold",
        "qualifying_spend",
        "qualifying_orders",
        "retention_growth",
        "points_multiplier",
        "discount_rate",
        "is_default",
        "is_active",
    ]
    list_display_links = ["rank", "code"]
    ordering = ["rank"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "rank",
                    "name",
                    "name_en",
                    "description",
                    "badge_color",
                    "is_default",
                    "is_active",
                )
            },
        ),
        (
            _("Qualification (rolling window)"),
            {
                "fields": (
                    "qualification_mode",
                    "growth_threshold",
                    "qualifying_spend",
                    "qualifying_orders",
                    "window_months",
                )
            },
        ),
        (_("Retention (保级)"), {"fields": ("retention_growth", "retention_spend", "grace_days")}),
        (_("Rewards"), {"fields": ("points_multiplier", "discount_rate", "benefit_codes", "benefits_text")}),
    )

    def has_delete_permission(self, request, obj=None):
        # Tiers are referenced by history; deactivate instead.
        return False


@admin.register(GrowthRule)
class GrowthRuleAdmin(admin.ModelAdmin):
    list_display = ["event_type", "name", "growth", "daily_cap", "is_active"]
    list_editable = ["growth", "daily_cap", "is_active"]


@admin.register(GrowthSettings)
class GrowthSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "growth_per_currency_unit", "renewal_reminder_days"]

    def has_add_permission(self, request):
        return not GrowthSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaidPlan)
class PaidPlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "price", "duration_days", "auto_renew", "tier", "is_active"]
    list_filter = ["is_active", "auto_renew"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "member",
        "plan",
        "payment_reference",
        "price",
        "starts_at",
        "ends_at",
        "status",
        "auto_renew",
        "partner",
    ]
    list_filter = ["status", "plan", "auto_renew"]
    search_fields = ["payment_reference", "member__member_id", "member__phone", "member__email"]
    list_select_related = ["member", "plan", "partner"]
    raw_id_fields = ["member"]
    actions = ["cancel_now"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Subscription._meta.fields]

    def has_add_permission(self, request):
        return False  # purchases arrive from the shop through the API

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Cancel now (refunded purchase)"))
    def cancel_now(self, request, queryset):
        done = 0
        for sub in queryset.select_related("member", "plan"):
            subscription_cancel(
                subscription=sub, reason=f"Cancelled by {request.user}", actor=str(request.user)
            )
            done += 1
        self.message_user(request, _("%(n)s subscription(s) cancelled.") % {"n": done}, messages.SUCCESS)


def _table(headers, rows) -> str:
    if not rows:
        return "—"
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(MemberTier)
class MemberTierAdmin(admin.ModelAdmin):
    form = MemberTierOverrideForm
    list_display = [
        "member",
        "tier",
        "growth_total",
        "tier_since",
        "evaluate_at",
        "grace_until",
        "override_tier",
        "override_until",
    ]
    list_filter = ["tier", "override_tier"]
    search_fields = ["member__member_id", "member__phone", "member__email"]
    list_select_related = ["member", "tier", "override_tier"]
    readonly_fields = [
        "member",
        "tier",
        "tier_since",
        "growth_total",
        "spend_total",
        "orders_total",
        "evaluate_at",
        "grace_until",
        "growth_history",
        "tier_history",
        "subscription_history",
    ]
    fieldsets = (
        (None, {"fields": ("member", "tier", "tier_since", "growth_total", "spend_total", "orders_total")}),
        (_("Re-evaluation"), {"fields": ("evaluate_at", "grace_until")}),
        (
            _("Manual override"),
            {
                "fields": ("override_tier", "override_reason", "override_until"),
                "description": _(
                    "Pins the member's tier; recorded in the audit log and the member's tier history."
                ),
            },
        ),
        (_("History"), {"fields": ("growth_history", "tier_history", "subscription_history")}),
    )
    actions = ["reevaluate_now", "clear_override"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Growth value (latest 50)"))
    def growth_history(self, obj):
        rows = GrowthEntry.objects.filter(member_id=obj.pk).order_by("-occurred_at", "-id")[:50]
        return _table(
            [_("When"), _("Growth"), _("Spend"), _("Orders"), _("Source"), _("Reason")],
            [
                (
                    e.occurred_at.strftime("%Y-%m-%d %H:%M"),
                    e.growth,
                    e.spend,
                    e.orders,
                    f"{e.source_type}:{e.source_id}",
                    e.reason,
                )
                for e in rows
            ],
        )

    @admin.display(description=_("Tier changes"))
    def tier_history(self, obj):
        rows = TierChange.objects.filter(member_id=obj.pk).select_related("from_tier", "to_tier")[:50]
        return _table(
            [_("When"), _("From"), _("To"), _("Source"), _("Reason"), _("Actor")],
            [
                (
                    c.created_at.strftime("%Y-%m-%d %H:%M"),
                    c.from_tier or "—",
                    c.to_tier or "—",
                    c.get_source_display(),
                    c.reason,
                    c.actor,
                )
                for c in rows
            ],
        )

    @admin.display(description=_("Paid memberships"))
    def subscription_history(self, obj):
        rows = Subscription.objects.filter(member_id=obj.pk).select_related("plan")[:50]
        return _table(
            [_("Plan"), _("From"), _("To"), _("Status"), _("Payment reference")],
            [
                (
                    s.plan,
                    s.starts_at.strftime("%Y-%m-%d"),
                    s.ends_at.strftime("%Y-%m-%d"),
                    s.get_status_display(),
                    s.payment_reference,
                )
                for s in rows
            ],
        )

    def save_model(self, request, obj, form, change):
        """The override is written by the service (audited, recorded, notified), never directly."""
        if not any(f in form.changed_data for f in ("override_tier", "override_reason", "override_until")):
            return
        data = form.cleaned_data
        if data.get("override_tier") is not None:
            tier_override_set(
                member=obj.member,
                tier=data["override_tier"],
                reason=data["override_reason"],
                until=data.get("override_until"),
                actor=request.user,
                request=request,
            )
        else:
            tier_override_clear(
                member=obj.member, reason=data.get("override_reason", ""), actor=request.user, request=request
            )

    def save_related(self, request, form, formsets, change):
        return None

    @admin.action(description=_("Re-evaluate now (if due)"))
    def reevaluate_now(self, request, queryset):
        outcomes = [member_tier_reevaluate(member=s.member) for s in queryset.select_related("member")]
        done = [o for o in outcomes if o is not None]
        self.message_user(request, _("%(n)s member(s) were due and re-evaluated.") % {"n": len(done)})

    @admin.action(description=_("Clear manual override"))
    def clear_override(self, request, queryset):
        for state in queryset.select_related("member"):
            tier_override_clear(
                member=state.member, reason=f"Cleared by {request.user}", actor=request.user, request=request
            )
        self.message_user(request, _("Overrides cleared."))


@admin.register(GrowthEntry)
class GrowthEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "member",
        "growth",
        "spend",
        "orders",
        "source_type",
        "source_id",
        "reason",
    ]
    list_filter = ["source_type"]
    search_fields = ["member__member_id", "source_id"]
    list_select_related = ["member"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(TierChange)
class TierChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "member", "from_tier", "to_tier", "source", "reason", "actor"]
    list_filter = ["source", "to_tier"]
    search_fields = ["member__member_id"]
    list_select_related = ["member", "from_tier", "to_tier"]
    show_full_result_count = False


@admin.register(ReevaluationRun)
class ReevaluationRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "as_of", "status", "last_member_pk", "counts", "finished_at"]
