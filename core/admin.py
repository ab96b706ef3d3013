from django.contrib import admin

from .models import ApiKey, AuditLog, JobRun, OutboxEvent, Partner


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "rate_limit_per_minute", "created_at"]
    search_fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "partner",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["partner"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
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


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "public_id", "partner", "dispatched_at"]
    list_filter = ["type"]
    search_fields = ["public_id"]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["name", "started_at", "finished_at", "status", "counts"]
    list_filter = ["name", "status"]
