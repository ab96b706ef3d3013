"""Member-centre pages. Thin: forms validate, services write, selectors read."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import registry
from core.errors import ApplicationError

from . import selectors, services
from .forms import (
    CloseAccountForm,
    ContactEmailForm,
    ContactPhoneForm,
    DocumentForm,
    EmailRegisterForm,
    PhoneRegisterForm,
    ProfileForm,
    RealNameForm,
    SendCodeForm,
    SmsLoginForm,
    SmsResetForm,
    TicketCloseForm,
    TicketForm,
    TicketReplyForm,
    apply_errors,
)
from .models import Ticket, User, VerificationCode

SOURCE_SESSION_KEY = "mh_registration_source"
SOURCE_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "channel", "store_id")
LOGIN_BACKEND = "members.backends.PhoneOrEmailBackend"


def _safe_next(request: HttpRequest) -> str | None:
    """The `next` URL of the form if it stays on this site (no open redirects)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _capture_source(request: HttpRequest) -> None:
    """Remember UTM parameters, channel, store and invite code from the first landing."""
    stored = request.session.get(SOURCE_SESSION_KEY) or {}
    changed = False
    for key in (*SOURCE_PARAMS, "ref"):
        value = request.GET.get(key, "").strip()
        if value and stored.get(key) != value:
            stored[key] = value[:100]
            changed = True
    if "referrer" not in stored:
        stored["referrer"] = request.META.get("HTTP_REFERER", "")[:500]
        changed = True
    if changed:
        request.session[SOURCE_SESSION_KEY] = stored


def _source(request: HttpRequest) -> services.SourceInfo:
    stored = request.session.get(SOURCE_SESSION_KEY) or {}
    return services.SourceInfo(
        channel=stored.get("channel", "") or "web",
        utm_source=stored.get("utm_source", ""),
        utm_medium=stored.get("utm_medium", ""),
        utm_campaign=stored.get("utm_campaign", ""),
        referrer=stored.get("referrer", ""),
        store_id=stored.get("store_id", ""),
    )


def _consent(request: HttpRequest) -> services.ConsentInfo:
    return services.ConsentInfo(
        ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300]
    )


def _send_sms_code(request: HttpRequest, *, form_class, purpose: str):
    """The "send me a code" button of a phone form (works without JavaScript): validates only
    the number, sends the code and re-displays the form with what was typed, errors on the
    right fields."""
    send_form = SendCodeForm(request.POST)
    if send_form.is_valid():
        try:
            services.code_issue(
                channel=VerificationCode.Channel.SMS,
                target=send_form.cleaned_data["phone"],
                purpose=purpose,
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            form = form_class(request.POST)
            form.errors.clear()
            apply_errors(form, exc)
            return form
        messages.success(request, _("We sent a 6-digit code. It is valid for 5 minutes."))
        return form_class(initial=request.POST.dict())
    form = form_class(request.POST)
    form.errors.clear()
    for message in send_form.errors.get("phone", []):
        form.add_error("phone", message)
    return form


# --- home and panels ----------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    _capture_source(request)
    panels = []
    if request.user.is_authenticated:
        for panel in registry.home_panels():
            panels.append(
                {
                    "name": panel.name,
                    "template": panel.template,
                    "context": panel.context(request, request.user),
                }
            )
    return render(request, "members/home.html", {"panels": panels})


def member_panel_context(request: HttpRequest, member: User) -> dict:
    """The members app's own home panel: verification, profile completeness, unread messages."""
    return {
        "level": member.get_verification_level_display(),
        "level_code": member.verification_level,
        "completeness": services.profile_completeness(member),
        "unread": selectors.unread_count(member=member),
        "referral_code": member.referral_code,
        "status": member.status,
        "status_display": member.get_status_display(),
    }


# --- legal documents ---------------------------------------------------------------------


def legal_terms(request: HttpRequest) -> HttpResponse:
    return render(request, "members/legal_terms.html", {"version": settings.TERMS_VERSION})


def legal_privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "members/legal_privacy.html", {"version": settings.PRIVACY_POLICY_VERSION})


# --- registration -------------------------------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    _capture_source(request)
    if request.user.is_authenticated:
        return redirect("members:home")
    return render(request, "members/register.html", {})


def _initial_invite(request: HttpRequest) -> dict:
    stored = request.session.get(SOURCE_SESSION_KEY) or {}
    return {"referral_code": stored.get("ref", "")}


def register_phone(request: HttpRequest) -> HttpResponse:
    _capture_source(request)
    if request.user.is_authenticated:
        return redirect("members:home")
    form = PhoneRegisterForm(initial=_initial_invite(request))
    if request.method == "POST":
        if request.POST.get("action") == "send":
            form = _send_sms_code(
                request, form_class=PhoneRegisterForm, purpose=VerificationCode.Purpose.REGISTER
            )
        else:
            form = PhoneRegisterForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    member = services.member_register_by_phone(
                        phone=data["phone"],
                        code=data["code"],
                        nickname=data["nickname"],
                        referral_code=data["referral_code"],
                        source=_source(request),
                        consent=_consent(request),
                    )
                except ApplicationError as exc:
                    apply_errors(form, exc)
                else:
                    login(request, member, backend=LOGIN_BACKEND)
                    messages.success(request, _("Welcome! Your account is ready."))
                    return redirect("members:home")
    return render(request, "members/register_phone.html", {"form": form})


def register_email(request: HttpRequest) -> HttpResponse:
    _capture_source(request)
    if request.user.is_authenticated:
        return redirect("members:home")
    form = EmailRegisterForm(initial=_initial_invite(request))
    if request.method == "POST":
        form = EmailRegisterForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.member_register_by_email(
                    email=data["email"],
                    password=data["password1"],
                    nickname=data["nickname"],
                    referral_code=data["referral_code"],
                    source=_source(request),
                    consent=_consent(request),
                    ip=client_ip(request),
                    confirm_url_base=request.build_absolute_uri("/")[:-1],
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                return render(request, "members/register_email_sent.html", {"email": data["email"]})
    return render(request, "members/register_email.html", {"form": form})


def register_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        # A GET only shows a button: mail scanners that prefetch links must not consume them.
        return render(request, "members/register_confirm.html", {"token": token})
    try:
        member = services.member_confirm_email(token=token)
    except ApplicationError as exc:
        return render(
            request, "members/register_confirm.html", {"token": token, "error": exc.message}, status=400
        )
    login(request, member, backend=LOGIN_BACKEND)
    messages.success(request, _("Your email address is confirmed. Welcome!"))
    return redirect("members:home")


# --- log in / out / reset -----------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "members/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def login_sms(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("members:home")
    form = SmsLoginForm()
    if request.method == "POST":
        if request.POST.get("action") == "send":
            form = _send_sms_code(request, form_class=SmsLoginForm, purpose=VerificationCode.Purpose.LOGIN)
        else:
            form = SmsLoginForm(request.POST)
            if form.is_valid():
                try:
                    member = services.member_login_by_code(
                        phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
                    )
                except ApplicationError as exc:
                    apply_errors(form, exc)
                else:
                    login(request, member, backend=LOGIN_BACKEND)
                    return redirect(_safe_next(request) or "members:home")
    return render(request, "members/login_sms.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "members/password_reset.html"
    email_template_name = "members/email/password_reset.txt"
    subject_template_name = "members/email/password_reset_subject.txt"
    success_url = reverse_lazy("members:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "members/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "members/password_reset_confirm.html"
    success_url = reverse_lazy("members:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "members/password_reset_complete.html"


def password_reset_sms(request: HttpRequest) -> HttpResponse:
    form = SmsResetForm()
    if request.method == "POST":
        if request.POST.get("action") == "send":
            form = _send_sms_code(request, form_class=SmsResetForm, purpose=VerificationCode.Purpose.RESET)
        else:
            form = SmsResetForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.member_password_set_by_code(
                        phone=data["phone"], code=data["code"], password=data["password1"]
                    )
                except ApplicationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, _("Your password has been set. You can now log in."))
                    return redirect("members:login")
    return render(request, "members/password_reset_sms.html", {"form": form})


# --- profile and contacts -----------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    member = request.user
    initial = {name: getattr(member, name) for name in services.PROFILE_FIELDS}
    form = ProfileForm(initial=initial)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.member_profile_update(member=member, **form.cleaned_data)
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Your profile has been saved."))
                return redirect("members:profile")
    member.refresh_from_db()
    return render(
        request,
        "members/profile.html",
        {"form": form, "completeness": services.profile_completeness(member), "member": member},
    )


@login_required
def contact(request: HttpRequest) -> HttpResponse:
    """Verify (or change) the phone number or email address with a code."""
    member = request.user
    phone_form, email_form = (
        ContactPhoneForm(initial={"phone": member.phone}),
        ContactEmailForm(initial={"email": member.email}),
    )
    if request.method == "POST":
        kind = request.POST.get("kind")
        form_class, channel, field_name = (
            (ContactPhoneForm, VerificationCode.Channel.SMS, "phone")
            if kind == "phone"
            else (ContactEmailForm, VerificationCode.Channel.EMAIL, "email")
        )
        form = form_class(request.POST)
        if form.is_valid():
            target = form.cleaned_data[field_name]
            try:
                if request.POST.get("action") == "send":
                    services.code_issue(
                        channel=channel,
                        target=target,
                        purpose=VerificationCode.Purpose.VERIFY_CONTACT,
                        ip=client_ip(request),
                    )
                    messages.success(request, _("We sent a 6-digit code. It is valid for 5 minutes."))
                    form = form_class(initial=request.POST.dict())
                elif not form.cleaned_data.get("code"):
                    form.add_error("code", _("Enter the code we sent you."))
                else:
                    services.member_contact_verify(
                        member=member, channel=channel, target=target, code=form.cleaned_data["code"]
                    )
                    messages.success(request, _("Verified."))
                    return redirect("members:contact")
            except ApplicationError as exc:
                apply_errors(form, exc)
        if kind == "phone":
            phone_form = form
        else:
            email_form = form
    return render(request, "members/contact.html", {"phone_form": phone_form, "email_form": email_form})


# --- verification -------------------------------------------------------------------------


@login_required
def verification(request: HttpRequest) -> HttpResponse:
    member = request.user
    realname_form, document_form = RealNameForm(), DocumentForm()
    if request.method == "POST":
        if request.POST.get("form") == "realname":
            realname_form = RealNameForm(request.POST)
            if realname_form.is_valid():
                try:
                    result = services.realname_submit(
                        member=member,
                        name=realname_form.cleaned_data["name"],
                        id_number=realname_form.cleaned_data["id_number"],
                        request=request,
                    )
                except ApplicationError as exc:
                    apply_errors(realname_form, exc)
                else:
                    if result.status == "approved":
                        messages.success(request, _("You are now real-name verified."))
                    else:
                        messages.info(request, _("Thank you. Our team will review your request shortly."))
                    return redirect("members:verification")
        else:
            document_form = DocumentForm(request.POST, request.FILES)
            if document_form.is_valid():
                try:
                    services.document_upload(
                        member=member,
                        kind=document_form.cleaned_data["kind"],
                        uploaded=document_form.cleaned_data["file"],
                        request=request,
                    )
                except ApplicationError as exc:
                    apply_errors(document_form, exc)
                else:
                    messages.success(request, _("Document uploaded. We will review it shortly."))
                    return redirect("members:verification")
    summary = selectors.verification_summary(member=member)
    return render(
        request,
        "members/verification.html",
        {"summary": summary, "realname_form": realname_form, "document_form": document_form},
    )


def _file_response(data: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename.replace(chr(34), "")}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def document_download(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        document = selectors.access_document(viewer=request.user, public_id=public_id)
        data = services.document_open(document=document, viewer=request.user, request=request)
    except ApplicationError as exc:
        raise Http404(exc.message)
    return _file_response(data, content_type=document.content_type, filename=document.original_name)


# --- inbox --------------------------------------------------------------------------------

INBOX_PAGE = 20


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = selectors.notifications_for(member=request.user)
    show = request.GET.get("show", "all")
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows = list(qs[(page - 1) * INBOX_PAGE : page * INBOX_PAGE + 1])
    return render(
        request,
        "members/inbox.html",
        {
            "notifications": rows[:INBOX_PAGE],
            "has_next": len(rows) > INBOX_PAGE,
            "page": page,
            "show": show,
            "unread": selectors.unread_count(member=request.user),
        },
    )


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    services.notification_mark_read(member=request.user, notification_id=pk)
    return redirect(_safe_next(request) or reverse("members:inbox"))


# --- feedback -----------------------------------------------------------------------------


@login_required
def tickets(request: HttpRequest) -> HttpResponse:
    rows = selectors.tickets_for(member=request.user)[:100]
    return render(request, "members/tickets.html", {"tickets": rows})


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    form = TicketForm(initial={"category": request.GET.get("category", "")})
    if request.method == "POST":
        form = TicketForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    member=request.user,
                    category=data["category"],
                    subject=data["subject"],
                    body=data["body"],
                    attachments=data["attachments"],
                )
            except ApplicationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Thank you for your feedback. We will get back to you."))
                return redirect("members:ticket", public_id=ticket.public_id)
    return render(request, "members/ticket_new.html", {"form": form})


@login_required
def ticket_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        ticket = selectors.access_ticket(member=request.user, public_id=public_id)
    except ApplicationError:
        raise Http404
    reply_form, close_form = TicketReplyForm(), TicketCloseForm()
    if request.method == "POST":
        try:
            if request.POST.get("action") == "close":
                close_form = TicketCloseForm(request.POST)
                if close_form.is_valid():
                    services.ticket_close_by_member(
                        ticket=ticket,
                        member=request.user,
                        satisfaction=close_form.cleaned_data["satisfaction"],
                    )
                    messages.success(request, _("Thank you for rating our service."))
                    return redirect("members:ticket", public_id=public_id)
            else:
                reply_form = TicketReplyForm(request.POST, request.FILES)
                if reply_form.is_valid():
                    services.ticket_reply(
                        ticket=ticket,
                        author=request.user,
                        body=reply_form.cleaned_data["body"],
                        attachments=reply_form.cleaned_data["attachments"],
                    )
                    return redirect("members:ticket", public_id=public_id)
        except ApplicationError as exc:
            apply_errors(close_form if request.POST.get("action") == "close" else reply_form, exc)
    replies = selectors.ticket_thread(ticket=ticket)
    history = ticket.status_changes.all()
    attachments = ticket.attachments.filter(reply__isnull=True)
    return render(
        request,
        "members/ticket_detail.html",
        {
            "ticket": ticket,
            "replies": replies,
            "history": history,
            "attachments": attachments,
            "reply_form": reply_form,
            "close_form": close_form,
            "is_closed": ticket.status == Ticket.Status.CLOSED,
        },
    )


@login_required
def attachment_download(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        attachment = selectors.access_attachment(viewer=request.user, public_id=public_id)
        data = services.attachment_open(attachment=attachment, viewer=request.user)
    except ApplicationError:
        raise Http404
    return _file_response(data, content_type=attachment.content_type, filename=attachment.original_name)


# --- privacy ------------------------------------------------------------------------------


@login_required
def privacy(request: HttpRequest) -> HttpResponse:
    form = CloseAccountForm()
    if request.method == "POST":
        if request.POST.get("action") == "send":
            try:
                if not request.user.phone:
                    raise ApplicationError(
                        _("No phone number on this account."), errors={"code": [_("No phone number.")]}
                    )
                services.code_issue(
                    channel=VerificationCode.Channel.SMS,
                    target=request.user.phone,
                    purpose=VerificationCode.Purpose.CLOSE,
                    ip=client_ip(request),
                )
                messages.success(request, _("We sent a 6-digit code. It is valid for 5 minutes."))
            except ApplicationError as exc:
                form = CloseAccountForm(request.POST)
                form.errors.clear()
                apply_errors(form, exc)
        else:
            form = CloseAccountForm(request.POST)
            if form.is_valid():
                try:
                    services.member_close(
                        member=request.user,
                        password=form.cleaned_data["password"],
                        sms_code=form.cleaned_data["code"],
                        request=request,
                    )
                except ApplicationError as exc:
                    apply_errors(form, exc)
                else:
                    from django.contrib.auth import logout

                    logout(request)
                    messages.success(
                        request, _("Your account has been closed and your personal data removed.")
                    )
                    return redirect("members:home")
    return render(request, "members/privacy.html", {"form": form})


@login_required
@require_POST
def privacy_export(request: HttpRequest) -> HttpResponse:
    data = services.privacy_export(member=request.user, request=request)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"memberhub-{request.user.member_id}-{timezone.now():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
