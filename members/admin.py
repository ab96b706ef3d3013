"""Back office for members: search, filters, PII masking, review queues, freeze/unfreeze, feedback.

The member table may hold millions of rows: no full counts, searches that use indexes, and
list pages with select_related so that they run in a fixed number of queries.
"""

from __future__ import annotations

import json
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

from . import services
from .idcard import mask_email, mask_phone
from .models import (
    Consent,
    ExternalIdentity,
    Notification,
    QualificationDocument,
    RealNameVerification,
    RegistrationSource,
    ReviewStatus,
    Ticket,
    TicketAttachment,
    TicketReply,
    TicketStatusChange,
    User,
)

PHONE_RE = re.compile(r"^\+?\d{6,20}$")
CHANNELS = [
    ("app", "app"),
    ("mini_program", "mini_program"),
    ("web", "web"),
    ("store", "store"),
    ("h5", "h5"),
    ("partner", "partner"),
    ("shop", "shop"),
    ("pos", "pos"),
]


def _can_pii(request) -> bool:
    return services.can_view_pii(request.user)


# --- user forms for our model (email or phone; no username) --------------------------------


class MemberCreationForm(forms.ModelForm):
    password1 = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave both empty for a member who logs in by SMS code."),
    )

    class Meta:
        model = User
        fields = ("email", "phone", "nickname", "is_staff")

    def clean_email(self):
        email = self.cleaned_data.get("email")
        return User.objects.normalize_email(email).lower() if email else None

    def clean_phone(self):
        return (self.cleaned_data.get("phone") or "").strip() or None

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Give an email address or a phone number."))
        p1, p2 = data.get("password1"), data.get("password2")
        if (p1 or p2) and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.instance)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        if data.get("is_staff") and not p1:
            self.add_error("password1", _("Operators need a password."))
        return data

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("password1"):
            user.set_password(self.cleaned_data["password1"])
        else:
            user.set_unusable_password()
        if commit:
            user.save()
            self.save_m2m()
        return user


class MemberChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField(
        label=_("Password"),
        help_text=_('Raw passwords are not stored. <a href="{}">Change the password</a>.'),
    )

    class Meta:
        model = User
        fields = [
            "email",
            "phone",
            "password",
            "nickname",
            "birthday",
            "gender",
            "region",
            "occupation",
            "channel",
            "lifecycle_stage",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password = self.fields.get("password")
        if password:
            password.help_text = password.help_text.format(f"../../{self.instance.pk}/password/")
        for name in ("email", "phone"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_email(self):
        email = self.cleaned_data.get("email")
        return User.objects.normalize_email(email).lower() if email else None

    def clean_phone(self):
        return (self.cleaned_data.get("phone") or "").strip() or None


class LargeTablePaginator(Paginator):
    """On PostgreSQL, a list of many rows shows the planner's row estimate instead of running
    COUNT(*) over millions of rows; small results (under ESTIMATE_ABOVE) are counted exactly."""

    ESTIMATE_ABOVE = 10_000

    @property
    def count(self) -> int:
        if not hasattr(self, "_count"):
            self._count = self._estimate() or super().count
        return self._count

    def _estimate(self) -> int | None:
        qs = self.object_list
        if connection.vendor != "postgresql" or not hasattr(qs, "query"):
            return None
        with connection.cursor() as cursor:
            if not qs.query.where:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [qs.model._meta.db_table]
                )
                row = cursor.fetchone()
                estimate = int(row[0]) if row and row[0] else 0
            else:
                try:
                    sql, params = qs.order_by().values("pk").query.sql_with_params()
                except EmptyResultSet:
                    return None
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                estimate = int(plan[0]["Plan"]["Plan Rows"])
        return estimate if estimate >= self.ESTIMATE_ABOVE else None


# --- filters --------------------------------------------------------------------------------


class ChannelFilter(admin.SimpleListFilter):
    """Fixed choices: a DISTINCT over a million rows on every page load is not worth it."""

    title = _("registration channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return CHANNELS

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


class MemberKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("members", _("Members")), ("operators", _("Operators"))]

    def queryset(self, request, queryset):
        if self.value() == "members":
            return queryset.filter(is_staff=False)
        if self.value() == "operators":
            return queryset.filter(is_staff=True)
        return queryset


# --- inlines --------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """Rows shown for context on the member page; they change through services only."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ExternalIdentityInline(ReadOnlyInline):
    """Read-only: identities are bound through the API (member_identity_bind)."""

    model = ExternalIdentity
    fields = ["provider", "subject", "partner", "created_at"]
    readonly_fields = fields


class RealNameInline(ReadOnlyInline):
    model = RealNameVerification
    fk_name = "member"
    fields = [
        "public_id",
        "name_masked",
        "id_number_masked",
        "birth_date",
        "province",
        "status",
        "review_note",
        "created_at",
    ]
    readonly_fields = fields


class DocumentInline(ReadOnlyInline):
    model = QualificationDocument
    fk_name = "member"
    fields = ["public_id", "kind", "status", "review_note", "created_at", "open_link"]
    readonly_fields = fields

    @admin.display(description=_("file"))
    def open_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:members_document_open", args=[obj.pk]), _("open")
        )


class TicketInline(ReadOnlyInline):
    model = Ticket
    fk_name = "member"
    fields = ["public_id", "category", "subject", "status", "priority", "created_at"]
    readonly_fields = fields
    show_change_link = True


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ["document", "version", "accepted_at", "ip_address"]
    readonly_fields = fields


# --- freeze / unfreeze with a reason (intermediate page) ------------------------------------


class StatusReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3}))


def _status_action(modeladmin, request, queryset, *, freeze: bool):
    title = _("Freeze members") if freeze else _("Unfreeze members")
    if "apply" in request.POST:
        form = StatusReasonForm(request.POST)
        if form.is_valid():
            done = 0
            for member in queryset:
                try:
                    if freeze:
                        services.member_freeze(
                            member=member,
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                            request=request,
                        )
                    else:
                        services.member_unfreeze(
                            member=member,
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                            request=request,
                        )
                    done += 1
                except ApplicationError as exc:
                    modeladmin.message_user(request, f"{member.member_id}: {exc.message}", messages.ERROR)
            modeladmin.message_user(request, _("%(n)d member(s) updated.") % {"n": done}, messages.SUCCESS)
            return None
    else:
        form = StatusReasonForm()
    return render(
        request,
        "admin/members/status_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset[:200],
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "opts": modeladmin.model._meta,
        },
    )


# --- members --------------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = MemberChangeForm
    add_form = MemberCreationForm
    ordering = ["-id"]
    list_display = [
        "member_id",
        "nickname",
        "phone_display",
        "email_display",
        "status",
        "verification_level",
        "channel",
        "lifecycle_stage",
        "date_joined",
        "is_staff",
    ]
    list_filter = [
        MemberKindFilter,
        "status",
        ChannelFilter,
        "verification_level",
        "lifecycle_stage",
        "date_joined",
    ]
    search_fields = ["member_id"]  # the real search is get_search_results (index-friendly)
    search_help_text = _("Phone, email, member id, external id (exact) or the beginning of a nickname.")
    readonly_fields = [
        "member_id",
        "date_joined",
        "last_login",
        "referral_code",
        "verification_level",
        "status",
        "status_reason",
        "status_changed_at",
        "closed_at",
        "referred_by_link",
        "source_display",
    ]
    raw_id_fields = ["referred_by"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    list_per_page = 50
    actions = ["freeze_members", "unfreeze_members"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "phone", "nickname", "is_staff", "password1", "password2"),
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        contact = (
            ("member_id", "email", "phone", "password")
            if _can_pii(request)
            else ("member_id", "email_display", "phone_display", "password")
        )
        return (
            (None, {"fields": contact}),
            (_("Profile"), {"fields": ("nickname", "birthday", "gender", "region", "occupation")}),
            (
                _("Registration"),
                {"fields": ("channel", "referral_code", "referred_by_link", "source_display", "date_joined")},
            ),
            (
                _("Status"),
                {
                    "fields": (
                        "status",
                        "status_reason",
                        "status_changed_at",
                        "closed_at",
                        "lifecycle_stage",
                        "verification_level",
                    )
                },
            ),
            (
                _("Operator"),
                {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
            ),
            (_("Dates"), {"fields": ("last_login",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not _can_pii(request):
            fields += ["email_display", "phone_display"]
        return fields

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [ExternalIdentityInline, RealNameInline, DocumentInline, TicketInline, ConsentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("password")

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "user_permissions":
            kwargs["queryset"] = db_field.remote_field.model.objects.select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        """Exact, indexed look-ups instead of LIKE '%…%' over every column of a huge table."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(email=term.lower()), False
        if term.startswith("m_"):
            return queryset.filter(member_id=term), False
        # External ids first, as a short list of pks: OR-ing an IN (subquery) defeats the
        # indexes of a large table; OR-ing two index look-ups does not.
        subject = term[4:] if term.startswith("ext:") else term
        by_ext = list(
            ExternalIdentity.objects.filter(subject=subject).values_list("member_id", flat=True)[:100]
        )
        if term.startswith("ext:"):
            return queryset.filter(pk__in=by_ext), False
        if PHONE_RE.match(term):
            phone = term[3:] if term.startswith("+86") else term
            return queryset.filter(Q(phone=phone) | Q(pk__in=by_ext)), False
        return queryset.filter(Q(nickname__startswith=term) | Q(pk__in=by_ext)), False

    def get_list_display(self, request):
        """Decided per request: the admin instance is shared between threads."""
        columns = list(super().get_list_display(request))
        if _can_pii(request):
            columns = [{"phone_display": "phone", "email_display": "email"}.get(c, c) for c in columns]
        return columns

    @admin.display(description=_("phone"), ordering="phone")
    def phone_display(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("email"), ordering="email")
    def email_display(self, obj):
        return mask_email(obj.email)

    @admin.display(description=_("referred by"))
    def referred_by_link(self, obj):
        if not obj.referred_by_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:members_user_change", args=[obj.referred_by_id]),
            obj.referred_by_id,
        )

    @admin.display(description=_("source"))
    def source_display(self, obj):
        source = RegistrationSource.objects.filter(member=obj).first()
        if source is None:
            return "—"
        parts = [
            f"{k}={v}"
            for k, v in (
                ("channel", source.channel),
                ("utm_source", source.utm_source),
                ("utm_medium", source.utm_medium),
                ("utm_campaign", source.utm_campaign),
                ("store", source.store_id),
                ("invite", source.referral_code),
                ("referrer", source.referrer),
            )
            if v
        ]
        return " · ".join(parts) or "—"

    @admin.action(description=_("Freeze selected members (risk control)…"), permissions=["change"])
    def freeze_members(self, request, queryset):
        return _status_action(self, request, queryset, freeze=True)

    @admin.action(description=_("Unfreeze selected members…"), permissions=["change"])
    def unfreeze_members(self, request, queryset):
        return _status_action(self, request, queryset, freeze=False)

    def save_model(self, request, obj, form, change):
        """Account fields save as usual; profile changes then go through the profile service
        (operator audit row, profile-completed event)."""
        profile_changes = {}
        if change:
            profile_changes = {
                name: form.cleaned_data[name] for name in form.changed_data if name in services.PROFILE_FIELDS
            }
            if profile_changes:
                original = User.objects.get(pk=obj.pk)
                for name in profile_changes:
                    setattr(obj, name, getattr(original, name))
        super().save_model(request, obj, form, change)
        if profile_changes:
            try:
                services.member_profile_update(
                    member=obj, actor_type="operator", actor=request.user, **profile_changes
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    def get_urls(self):
        custom = [
            path(
                "documents/<int:pk>/open/",
                self.admin_site.admin_view(self.document_open_view),
                name="members_document_open",
            ),
        ]
        return custom + super().get_urls()

    def document_open_view(self, request, pk: int):
        from django.http import Http404

        document = QualificationDocument.objects.select_related("member").filter(pk=pk).first()
        if document is None:
            raise Http404
        try:
            data = services.document_open(document=document, viewer=request.user, request=request)
        except ApplicationError as exc:
            if exc.status == 403:
                from django.core.exceptions import PermissionDenied

                raise PermissionDenied(exc.message)
            raise Http404(exc.message)
        response = HttpResponse(data, content_type=document.content_type)
        response["Content-Disposition"] = f'inline; filename="{document.original_name.replace(chr(34), "")}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# --- review queues --------------------------------------------------------------------------


class ReviewReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the rejection"), max_length=255, widget=forms.Textarea(attrs={"rows": 3})
    )


def _review_action(modeladmin, request, queryset, *, review, approve: bool):
    if approve:
        done = 0
        for obj in queryset.filter(status=ReviewStatus.PENDING):
            try:
                review(obj, actor=request.user, approve=True, reason="", request=request)
                done += 1
            except ApplicationError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        modeladmin.message_user(request, _("%(n)d approved.") % {"n": done}, messages.SUCCESS)
        return None
    if "apply" in request.POST:
        form = ReviewReasonForm(request.POST)
        if form.is_valid():
            done = 0
            for obj in queryset.filter(status=ReviewStatus.PENDING):
                try:
                    review(
                        obj,
                        actor=request.user,
                        approve=False,
                        reason=form.cleaned_data["reason"],
                        request=request,
                    )
                    done += 1
                except ApplicationError as exc:
                    modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            modeladmin.message_user(request, _("%(n)d rejected.") % {"n": done}, messages.SUCCESS)
            return None
    else:
        form = ReviewReasonForm()
    return render(
        request,
        "admin/members/status_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Reject with a reason"),
            "form": form,
            "queryset": queryset[:200],
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "opts": modeladmin.model._meta,
        },
    )


class ReviewStatusFilter(admin.SimpleListFilter):
    """The review queue opens on what is waiting: pending requests, oldest first."""

    title = _("review status")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [*ReviewStatus.choices, ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or ReviewStatus.PENDING
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or ReviewStatus.PENDING
        return queryset if value == "all" else queryset.filter(status=value)


class ReviewAdmin(admin.ModelAdmin):
    list_filter = [ReviewStatusFilter, "created_at"]
    list_select_related = ["member", "reviewed_by"]
    show_full_result_count = False
    raw_id_fields = ["member", "reviewed_by"]
    actions = ["approve", "reject"]
    ordering = ["created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(member__member_id=term) | queryset.filter(public_id=term), False

    @admin.display(description=_("member"))
    def member_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:members_user_change", args=[obj.member_id]),
            obj.member.member_id,
        )


@admin.register(RealNameVerification)
class RealNameVerificationAdmin(ReviewAdmin):
    list_display = [
        "public_id",
        "member_link",
        "name_masked",
        "id_number_masked",
        "birth_date",
        "province",
        "status",
        "auto_approved",
        "created_at",
        "reviewed_by",
    ]
    search_fields = ["public_id"]
    readonly_fields = [
        "public_id",
        "member",
        "name_masked",
        "id_number_masked",
        "birth_date",
        "region_code",
        "province",
        "status",
        "auto_approved",
        "review_note",
        "reviewed_by",
        "reviewed_at",
        "created_at",
    ]
    fields = readonly_fields
    exclude = ["name_encrypted", "id_number_encrypted", "id_number_hash"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("members.change_realnameverification")

    def _unmasked_field(self, request):
        """A read-only field bound to this request (never stored on the shared admin instance);
        the same function object for the whole request, so the form factory can exclude it."""
        cached = getattr(request, "_members_unmasked_field", None)
        if cached is not None:
            return cached

        def unmasked(obj):
            if obj is None or not obj.pk or not _can_pii(request):
                return _("Requires the “view personal data” permission.")
            if not obj.id_number_encrypted:
                return "—"
            if request.GET.get("reveal") != "1":
                return format_html(
                    '<a href="?reveal=1">{}</a>', _("Show name and ID number (the view is audited)")
                )
            data = services.realname_reveal(verification=obj, viewer=request.user, request=request)
            return f"{data['name']} · {data['id_number']}"

        unmasked.short_description = _("unmasked (audited)")
        request._members_unmasked_field = unmasked
        return unmasked

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, self._unmasked_field(request)]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.action(description=_("Approve selected requests"))
    def approve(self, request, queryset):
        return _review_action(
            self,
            request,
            queryset,
            approve=True,
            review=lambda obj, **kw: services.realname_review(verification=obj, **kw),
        )

    @admin.action(description=_("Reject selected requests with a reason…"))
    def reject(self, request, queryset):
        return _review_action(
            self,
            request,
            queryset,
            approve=False,
            review=lambda obj, **kw: services.realname_review(verification=obj, **kw),
        )


@admin.register(QualificationDocument)
class QualificationDocumentAdmin(ReviewAdmin):
    list_display = [
        "public_id",
        "member_link",
        "kind",
        "status",
        "size",
        "created_at",
        "reviewed_by",
        "open_link",
    ]
    list_filter = [ReviewStatusFilter, "kind", "created_at"]
    search_fields = ["public_id"]
    readonly_fields = [
        "public_id",
        "member",
        "kind",
        "original_name",
        "content_type",
        "size",
        "status",
        "review_note",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "open_link",
    ]
    fields = readonly_fields
    exclude = ["storage_name"]

    @admin.display(description=_("file"))
    def open_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:members_document_open", args=[obj.pk]), _("open")
        )

    @admin.action(description=_("Approve selected documents"))
    def approve(self, request, queryset):
        return _review_action(
            self,
            request,
            queryset,
            approve=True,
            review=lambda obj, **kw: services.document_review(document=obj, **kw),
        )

    @admin.action(description=_("Reject selected documents with a reason…"))
    def reject(self, request, queryset):
        return _review_action(
            self,
            request,
            queryset,
            approve=False,
            review=lambda obj, **kw: services.document_review(document=obj, **kw),
        )


# --- feedback -------------------------------------------------------------------------------


class TicketAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label=_("Reply to the member"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the member's inbox."),
    )
    internal_note = forms.CharField(
        label=_("Internal note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Never shown to the member."),
    )
    status_note = forms.CharField(label=_("Note for the status change"), required=False, max_length=255)
    adopt_points = forms.IntegerField(
        label=_("Adopt this suggestion and reward points"),
        required=False,
        min_value=0,
        help_text=_("Only for suggestions; 0 adopts without points."),
    )

    class Meta:
        model = Ticket
        fields = ["status", "priority", "assignee"]


class TicketReplyInline(admin.TabularInline):
    model = TicketReply
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "from_operator", "is_internal", "body"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class TicketAttachmentInline(admin.TabularInline):
    model = TicketAttachment
    extra = 0
    can_delete = False
    fields = ["original_name", "content_type", "size", "reply", "created_at", "open_link"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def open_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("members:attachment", args=[obj.public_id]), _("open")
        )


class TicketStatusInline(admin.TabularInline):
    model = TicketStatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "old_status", "new_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            from django.utils import timezone

            return queryset.filter(status__in=["open", "in_progress"], sla_due_at__lt=timezone.now())
        return queryset


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = [
        "public_id",
        "subject",
        "member",
        "category",
        "priority",
        "status",
        "assignee",
        "sla_due_at",
        "satisfaction",
        "adopted",
        "created_at",
    ]
    list_filter = ["status", "category", "priority", OverdueFilter, "adopted", "created_at"]
    list_select_related = ["member", "assignee"]
    search_fields = ["public_id"]
    show_full_result_count = False
    raw_id_fields = ["assignee"]
    readonly_fields = [
        "public_id",
        "member",
        "category",
        "subject",
        "body",
        "sla_due_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "satisfaction",
        "adopted",
        "reward_points",
        "created_at",
    ]
    fieldsets = (
        (None, {"fields": ("public_id", "member", "category", "subject", "body", "created_at")}),
        (
            _("Handling"),
            {
                "fields": (
                    "status",
                    "status_note",
                    "priority",
                    "assignee",
                    "sla_due_at",
                    "first_response_at",
                    "resolved_at",
                    "closed_at",
                )
            },
        ),
        (_("Answer"), {"fields": ("reply", "internal_note")}),
        (_("Outcome"), {"fields": ("satisfaction", "adopted", "reward_points", "adopt_points")}),
    )
    inlines = [TicketReplyInline, TicketAttachmentInline, TicketStatusInline]
    actions = ["assign_to_me"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(public_id=term) | queryset.filter(member__member_id=term), False

    def save_model(self, request, obj, form, change):
        """Every change goes through a service (history rows, notifications, audit)."""
        original = Ticket.objects.get(pk=obj.pk)
        data = form.cleaned_data
        try:
            services.ticket_update(
                ticket=original,
                actor=request.user,
                status=data.get("status"),
                assignee=data.get("assignee"),
                priority=data.get("priority"),
                note=data.get("status_note") or "",
            )
            if data.get("internal_note"):
                services.ticket_reply(
                    ticket=original, author=request.user, body=data["internal_note"], internal=True
                )
            if data.get("reply"):
                services.ticket_reply(ticket=original, author=request.user, body=data["reply"])
            if data.get("adopt_points") is not None:
                services.ticket_adopt(ticket=original, actor=request.user, points=data["adopt_points"])
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def save_related(self, request, form, formsets, change):
        return None  # inlines are read-only; nothing to save

    @admin.action(description=_("Assign to me"))
    def assign_to_me(self, request, queryset):
        for ticket in queryset:
            services.ticket_update(ticket=ticket, actor=request.user, assignee=request.user)
        self.message_user(request, _("Assigned."), messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "member", "kind", "title", "read_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    show_full_result_count = False
    search_fields = ["member__member_id"]
    search_help_text = _("Member id (exact).")

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        return (queryset.filter(member__member_id=term), False) if term else (queryset, False)
