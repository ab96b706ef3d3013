"""Operator screens for the partner API platform. Every write goes through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError
from .models import (
    ApiKey,
    AuditLog,
    JobRun,
    OutboxEvent,
    Partner,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .outbox import WEBHOOK_EVENT_TYPES

# Strings of Django's own admin and auth templates that its zh_Hans catalogue does not translate;
# listed here so this app's catalogue carries them.
DJANGO_ADMIN_STRINGS = [
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _copy_into(target, source) -> None:
    """Make the admin's unsaved form instance reflect the row a service created."""
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def _show_once(request, label: str, value: str) -> None:
    messages.warning(
        request,
        gettext("%(label)s: %(value)s — copy it now, it is not shown again.")
        % {"label": label, "value": value},
    )


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "rate_limit_per_minute", "created_at"]
    search_fields = ["name"]


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiKey
        fields = ["partner", "name", "scopes", "require_signature"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from .services import KNOWN_SCOPES

        self.fields["scopes"].choices = [(s, s) for s in KNOWN_SCOPES]


class RotateForm(forms.Form):
    grace_hours = forms.DecimalField(
        min_value=0,
        max_value=24 * 30,
        decimal_places=2,
        label=_("Grace period (hours)"),
        help_text=_("How long the old keys keep working."),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = [
        "partner",
        "name",
        "prefix",
        "scopes",
        "require_signature",
        "state",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["partner", "require_signature"]
    search_fields = ["prefix", "name", "partner__name"]
    list_select_related = ["partner"]
    actions = ["revoke_keys", "rotate_keys", "reset_signing_secret"]

    def get_readonly_fields(self, request, obj=None):
        base = ["prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "rotated_from"]
        return [*base, "partner"] if obj is not None else base

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["partner", "name", "scopes", "require_signature"]
        return [
            "partner",
            "name",
            "scopes",
            "require_signature",
            "prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "rotated_from",
        ]

    @admin.display(description=pgettext_lazy("api key", "State"))
    def state(self, obj: ApiKey) -> str:
        now = timezone.now()
        if obj.revoked_at and obj.revoked_at <= now:
            return gettext("revoked")
        if obj.expires_at and obj.expires_at <= now:
            return gettext("expired")
        if obj.expires_at:
            return gettext("in grace period")
        return pgettext("api key state", "active")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays for the audit trail

    def save_model(self, request, obj, form, change):
        from .services import api_key_create, api_key_update

        data = form.cleaned_data
        if change:
            api_key_update(
                api_key=obj,
                name=data["name"],
                scopes=list(data["scopes"]),
                require_signature=data["require_signature"],
                actor=request.user,
                request=request,
            )
            obj.refresh_from_db()
            return
        api_key, raw = api_key_create(
            partner=data["partner"],
            scopes=list(data["scopes"]),
            name=data["name"],
            require_signature=data["require_signature"],
            actor=request.user,
            request=request,
        )
        _copy_into(obj, api_key)
        _show_once(request, gettext("API key for %(partner)s") % {"partner": api_key.partner.name}, raw)
        if api_key.signing_secret:
            _show_once(request, gettext("Signing secret"), api_key.signing_secret)

    @admin.action(description=_("Revoke selected keys now"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        from .services import api_key_revoke

        for api_key in queryset.order_by("pk"):
            api_key_revoke(api_key=api_key, actor=request.user, request=request)
        count = queryset.count()
        messages.success(
            request, ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", count) % {"count": count}
        )

    @admin.action(
        description=_("Rotate selected keys (old keys keep working for a grace period)"),
        permissions=["change"],
    )
    def rotate_keys(self, request, queryset):
        from datetime import timedelta

        from django.template.response import TemplateResponse

        from .services import api_key_rotate, rotation_grace_default

        default_hours = rotation_grace_default().total_seconds() / 3600
        form = RotateForm(
            request.POST if "apply" in request.POST else None, initial={"grace_hours": default_hours}
        )
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/core/apikey/rotate_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": gettext("Rotate API keys"),
                    "opts": self.model._meta,
                    "keys": list(queryset.select_related("partner").order_by("pk")),
                    "form": form,
                },
            )
        grace = timedelta(hours=float(form.cleaned_data["grace_hours"]))
        for api_key in queryset.select_related("partner").order_by("pk"):
            try:
                new, raw = api_key_rotate(
                    api_key=api_key, grace_period=grace, actor=request.user, request=request
                )
            except ApplicationError as exc:
                messages.error(request, f"{api_key}: {exc.message}")
                continue
            _show_once(
                request,
                gettext("New key for %(partner)s (replaces %(prefix)s)")
                % {"partner": new.partner.name, "prefix": api_key.prefix},
                raw,
            )
        messages.info(request, gettext("Old keys stop working in %(grace)s.") % {"grace": grace})
        return None

    @admin.action(description=_("Reset signing secret (and require signed requests)"), permissions=["change"])
    def reset_signing_secret(self, request, queryset):
        from .services import api_key_signing_secret_reset

        for api_key in queryset.select_related("partner").order_by("pk"):
            secret = api_key_signing_secret_reset(
                api_key=api_key, require_signature=True, actor=request.user, request=request
            )
            _show_once(request, gettext("Signing secret for %(key)s") % {"key": api_key}, secret)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=[("*", _("* (every event)"))] + [(t, t) for t in WEBHOOK_EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["partner", "url", "description", "event_types", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["partner", "url", "event_types", "is_active", "created_at", "updated_at"]
    list_filter = ["is_active", "partner"]
    search_fields = ["url", "partner__name"]
    list_select_related = ["partner"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["rotate_secret"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: deliveries and attempts stay visible

    def save_model(self, request, obj, form, change):
        from .webhooks import webhook_endpoint_create, webhook_endpoint_update

        data = form.cleaned_data
        if change:
            webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=list(data["event_types"]),
                description=data["description"],
                is_active=data["is_active"],
                actor=request.user,
                request=request,
            )
            obj.refresh_from_db()
            return
        endpoint, secret = webhook_endpoint_create(
            partner=data["partner"],
            url=data["url"],
            event_types=list(data["event_types"]),
            description=data["description"],
            is_active=data["is_active"],
            actor=request.user,
            request=request,
        )
        _copy_into(obj, endpoint)
        _show_once(request, gettext("Signing secret of %(url)s") % {"url": endpoint.url}, secret)

    @admin.action(description=_("Rotate signing secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        from .webhooks import webhook_endpoint_secret_rotate

        for endpoint in queryset.select_related("partner").order_by("pk"):
            secret = webhook_endpoint_secret_rotate(endpoint=endpoint, actor=request.user, request=request)
            _show_once(request, gettext("New signing secret of %(url)s") % {"url": endpoint.url}, secret)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "latency_ms", "succeeded", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
    ]
    list_filter = ["status", "event__type", "endpoint__partner"]
    search_fields = ["event__public_id", "endpoint__url"]
    list_select_related = ["event", "endpoint", "endpoint__partner"]
    inlines = [WebhookAttemptInline]
    actions = ["resend"]
    date_hierarchy = "created_at"

    @admin.display(description=_("Event type"), ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=_("Event ID"))
    def event_id(self, obj: WebhookDelivery) -> str:
        return obj.event.public_id

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("core.change_webhookdelivery")

    @admin.action(description=_("Re-send now"), permissions=["resend"])
    def resend(self, request, queryset):
        from .webhooks import webhook_delivery_resend

        for delivery in queryset.order_by("pk"):
            webhook_delivery_resend(delivery=delivery, actor=request.user, request=request)
        count = queryset.count()
        messages.success(
            request,
            ngettext(
                "Queued %(count)d delivery for sending.", "Queued %(count)d deliveries for sending.", count
            )
            % {"count": count},
        )


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Append-only: no add, change or delete for anyone (superusers included)."""

    list_display = [
        "created_at",
        "actor_type",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "ip_address",
    ]
    list_filter = ["actor_type", "action"]
    search_fields = ["target_id", "actor_label", "action"]
    date_hierarchy = "created_at"

    def get_actions(self, request):
        return {}


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "public_id", "partner", "dispatched_at", "delivery_count"]
    list_filter = ["type"]
    search_fields = ["public_id"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("partner").annotate(_deliveries=Count("deliveries"))
        )

    @admin.display(description=_("Deliveries"), ordering="_deliveries")
    def delivery_count(self, obj) -> int:
        return obj._deliveries


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "started_at", "finished_at", "status", "counts"]
    list_filter = ["name", "status"]
