from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "member_id",
        "nickname",
        "phone",
        "email",
        "status",
        "channel",
        "lifecycle_stage",
        "date_joined",
        "is_staff",
    ]
    list_filter = ["status", "channel", "lifecycle_stage", "is_staff", "date_joined"]
    search_fields = ["member_id", "phone", "email", "nickname"]
    readonly_fields = ["member_id", "date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("member_id", "email", "phone", "password")}),
        ("Profile", {"fields": ("nickname", "birthday", "gender", "region", "occupation", "channel")}),
        ("Status", {"fields": ("status", "status_reason", "lifecycle_stage")}),
        ("Operator", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "phone", "password1", "password2")}),)
    show_full_result_count = False
