"""Back office: benefit catalogue, coupon templates (with counts and a bulk-issue form),
issued coupons, tier entitlements, bulk issues, trials. Actions call services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

from . import services
from .models import (
    Benefit,
    Coupon,
    CouponBulkIssue,
    CouponEvent,
    CouponTemplate,
    TierCouponEntitlement,
    TrialApplication,
    TrialProduct,
    TrialReport,
)
from .presentation import describe_template
from .services.issuance import bulk_members_queryset


@admin.register(Benefit)
class BenefitAdmin(admin.ModelAdmin):
    list_display = ("code", "icon", "name_zh", "name_en", "kind", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name_zh", "name_en")


class ListField(forms.CharField):
    """A JSON list of strings edited as comma-separated text."""

    def __init__(self, *args, encoder=None, decoder=None, **kwargs):
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [v.strip() for v in (value or "").replace("，", ",").split(",") if v.strip()]


LIST_FIELDS = ("categories", "skus", "exclude_categories", "exclude_skus", "channels", "stores", "tier_codes")


class CouponTemplateForm(forms.ModelForm):
    class Meta:
        model = CouponTemplate
        fields = (
            "code",
            "name",
            "description",
            "kind",
            "is_active",
            "threshold",
            "amount",
            "rate",
            "cap",
            "validity",
            "valid_from",
            "valid_until",
            "valid_days",
            "total_quantity",
            "per_member_limit",
            *LIST_FIELDS,
            "stacking",
            "stack_group",
            "partner",
            "api_issuable",
        )
        field_classes = dict.fromkeys(LIST_FIELDS, ListField)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in LIST_FIELDS:
            self.fields[name].required = False
            self.fields[name].help_text = _("Comma-separated; empty = all.")


class BulkIssueForm(forms.Form):
    status = forms.MultipleChoiceField(
        label=_("Member status"),
        choices=[
            ("active", pgettext_lazy("member status", "Active")),
            ("frozen", pgettext_lazy("member status", "Frozen")),
        ],
        initial=["active"],
        widget=forms.CheckboxSelectMultiple,
    )
    channel = ListField(label=_("Channels"), required=False, help_text=_("Comma-separated; empty = all."))
    region = ListField(label=_("Regions"), required=False, help_text=_("Comma-separated; empty = all."))
    tier_codes = ListField(
        label=_("Tier codes"), required=False, help_text=_("Comma-separated; empty = all.")
    )
    member_ids = ListField(
        label=_("Member ids"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional list."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


@admin.register(CouponTemplate)
class CouponTemplateAdmin(admin.ModelAdmin):
    form = CouponTemplateForm
    list_display = (
        "code",
        "name",
        "kind",
        "summary",
        "is_active",
        "issued_count",
        "remaining_display",
        "redeemed_count",
        "validity_display",
        "bulk_issue_link",
    )
    list_filter = ("kind", "is_active", "stacking", "validity")
    search_fields = ("code", "name", "public_id")
    readonly_fields = ("public_id", "issued_count", "created_at")
    fieldsets = (
        (None, {"fields": ("public_id", "code", "name", "description", "kind", "is_active")}),
        (_("Value"), {"fields": ("threshold", "amount", "rate", "cap")}),
        (_("Validity"), {"fields": ("validity", "valid_from", "valid_until", "valid_days")}),
        (_("Limits"), {"fields": ("total_quantity", "issued_count", "per_member_limit")}),
        (_("Scope"), {"fields": LIST_FIELDS}),
        (_("Stacking"), {"fields": ("stacking", "stack_group")}),
        (_("Issuing"), {"fields": ("partner", "api_issuable", "created_at")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(redeemed=Count("coupons", filter=Q(coupons__status=Coupon.Status.REDEEMED)))
        )

    @admin.display(description=_("summary"))
    def summary(self, obj):
        return describe_template(obj)

    @admin.display(description=_("remaining"))
    def remaining_display(self, obj):
        return "∞" if obj.remaining is None else obj.remaining

    @admin.display(description=_("used"), ordering="redeemed")
    def redeemed_count(self, obj):
        return obj.redeemed

    @admin.display(description=_("validity"))
    def validity_display(self, obj):
        if obj.validity == CouponTemplate.Validity.RELATIVE:
            return _("%(n)s days after issue") % {"n": obj.valid_days}
        return f"{obj.valid_from or '…'} – {obj.valid_until}"

    @admin.display(description=_("bulk issue"))
    def bulk_issue_link(self, obj):
        url = reverse("admin:benefits_coupontemplate_bulk_issue", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Issue to members…"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/bulk-issue/",
                self.admin_site.admin_view(self.bulk_issue_view),
                name="benefits_coupontemplate_bulk_issue",
            ),
            *super().get_urls(),
        ]

    def bulk_issue_view(self, request, pk: int):
        if not self.has_change_permission(request) or not request.user.has_perm(
            "benefits.add_couponbulkissue"
        ):
            raise PermissionDenied
        template = get_object_or_404(CouponTemplate, pk=pk)
        form = BulkIssueForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "note" and v}
            if "preview" in request.POST:
                preview = bulk_members_queryset({"status": ["active"], **data}).count()
            else:
                try:
                    bulk = services.coupon_bulk_issue_create(
                        template=template, filters=data, actor=request.user, note=form.cleaned_data["note"]
                    )
                except ApplicationError as exc:
                    for field, errors in exc.errors.items():
                        form.add_error(field if field in form.fields else None, errors)
                    if not exc.errors:
                        form.add_error(None, exc.message)
                else:
                    self.message_user(
                        request, _("Bulk issue #%(id)s queued.") % {"id": bulk.pk}, messages.SUCCESS
                    )
                    return redirect("admin:benefits_couponbulkissue_change", bulk.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Issue %(name)s to members") % {"name": template.name},
            "template_obj": template,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/benefits/bulk_issue.html", context)


class CouponEventInline(admin.TabularInline):
    model = CouponEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "order_id", "amount", "actor", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class RevokeForm(admin.helpers.ActionForm):
    reason = forms.CharField(required=False, label=_("Reason"))


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "member",
        "template",
        "status",
        "valid_until",
        "issued_by",
        "order_id",
        "discount_amount",
    )
    list_filter = ("status", "issued_by", "template")
    search_fields = ("code", "member__member_id", "member__phone", "member__email", "order_id")
    list_select_related = ("member", "template")
    raw_id_fields = ("member", "template")
    readonly_fields = [f.name for f in Coupon._meta.fields]
    inlines = [CouponEventInline]
    action_form = RevokeForm
    actions = ["revoke"]
    date_hierarchy = "issued_at"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description=_("Revoke selected available coupons (reason required)"), permissions=["change"]
    )
    def revoke(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, _("Give a reason to revoke."), messages.ERROR)
            return
        done = 0
        for coupon in queryset.filter(status=Coupon.Status.AVAILABLE):
            services.coupon_revoke(coupon=coupon, actor=request.user, reason=reason)
            done += 1
        self.message_user(request, _("%(n)s coupons revoked.") % {"n": done}, messages.SUCCESS)


@admin.register(TierCouponEntitlement)
class TierCouponEntitlementAdmin(admin.ModelAdmin):
    list_display = ("tier_code", "template", "quantity", "is_active")
    list_filter = ("tier_code", "is_active")
    list_select_related = ("template",)


@admin.register(CouponBulkIssue)
class CouponBulkIssueAdmin(admin.ModelAdmin):
    list_display = ("id", "template", "state", "counts", "cursor", "created_by", "created_at", "finished_at")
    list_filter = ("state",)
    list_select_related = ("template", "created_by")
    readonly_fields = [f.name for f in CouponBulkIssue._meta.fields]
    actions = ["resume"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Resume / run again (idempotent)"), permissions=["change"])
    def resume(self, request, queryset):
        for bulk in queryset:
            services.coupon_bulk_issue_resume(bulk=bulk, actor=request.user)
        self.message_user(request, _("Queued."), messages.SUCCESS)


@admin.register(TrialProduct)
class TrialProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "sku",
        "quantity",
        "apply_from",
        "apply_until",
        "applications",
        "selected",
        "drawn_at",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "sku")
    readonly_fields = ("drawn_at", "created_at")
    actions = ["draw"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_apps=Count("applications"),
                n_selected=Count("applications", filter=Q(applications__status__in=["selected", "reported"])),
            )
        )

    @admin.display(description=_("applications"), ordering="n_apps")
    def applications(self, obj):
        # A popular trial has thousands of applicants: link to the filtered list instead of an inline.
        url = reverse("admin:benefits_trialapplication_changelist") + f"?product__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.n_apps)

    @admin.display(description=_("selected"), ordering="n_selected")
    def selected(self, obj):
        return obj.n_selected

    @admin.action(description=_("Random draw now (window must be closed)"), permissions=["change"])
    def draw(self, request, queryset):
        for product in queryset:
            try:
                counts = services.trial_draw(product=product)
            except ApplicationError as exc:
                self.message_user(request, f"{product}: {exc.message}", messages.ERROR)
            else:
                if counts.get("already_drawn"):
                    message = gettext("%(product)s: already drawn.") % {"product": product}
                else:
                    message = gettext(
                        "%(product)s: %(selected)d selected, %(not_selected)d not selected."
                    ) % {
                        "product": product,
                        "selected": counts.get("selected", 0),
                        "not_selected": counts.get("not_selected", 0),
                    }
                self.message_user(request, message, messages.SUCCESS)


@admin.register(TrialApplication)
class TrialApplicationAdmin(admin.ModelAdmin):
    list_display = ("product", "member", "status", "created_at", "decided_at")
    list_filter = ("status", "product")
    search_fields = ("member__member_id", "member__phone", "member__email", "product__name")
    raw_id_fields = ("member",)
    list_select_related = ("product", "member")
    readonly_fields = ("product", "member", "reason", "status", "created_at", "decided_at")
    actions = ["select", "reject"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Select for the trial"), permissions=["change"])
    def select(self, request, queryset):
        try:
            n = services.trial_applications_decide(
                applications=list(queryset), selected=True, actor=request.user
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, _("%(n)s selected.") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Mark not selected"), permissions=["change"])
    def reject(self, request, queryset):
        n = services.trial_applications_decide(
            applications=list(queryset), selected=False, actor=request.user
        )
        self.message_user(request, _("%(n)s not selected.") % {"n": n}, messages.SUCCESS)


@admin.register(TrialReport)
class TrialReportAdmin(admin.ModelAdmin):
    list_display = ("application", "rating", "points_awarded", "created_at")
    list_filter = ("rating",)
    list_select_related = ("application__product", "application__member")
    readonly_fields = ("application", "text", "rating", "points_awarded", "created_at")

    def has_add_permission(self, request):
        return False
