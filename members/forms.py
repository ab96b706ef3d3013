"""Member-centre forms: validate input; the views hand it to services."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import QualificationDocument, Ticket, User

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def clean_phone_value(value: str) -> str:
    from .services.codes import normalise_phone

    phone = normalise_phone(value)
    if not PHONE_RE.match(phone):
        raise forms.ValidationError(_("Enter a mainland China mobile number (11 digits starting with 1)."))
    return phone


def apply_errors(form: forms.Form, exc) -> None:
    """Put an ApplicationError's field errors (or its message) on the form."""
    errors = getattr(exc, "errors", None) or {}
    if not errors:
        form.add_error(None, getattr(exc, "message", str(exc)))
        return
    for field_name, messages in errors.items():
        target = field_name if field_name in form.fields else None
        for message in messages:
            form.add_error(target, str(message))


class PhoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})

    def clean(self, value):
        return clean_phone_value(super().clean(value))


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Verification code"))
        kwargs.setdefault("max_length", 6)
        kwargs.setdefault("min_length", 6)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"\d{6}"}
        )


class ConsentMixin(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read and agree to the Terms of Service and the Privacy Policy"),
        error_messages={"required": _("You must agree to the terms and the privacy policy to register.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from django.urls import reverse
        from django.utils.html import format_html

        self.fields["agree"].help_text = format_html(
            '<a href="{}" target="_blank">{}</a> · <a href="{}" target="_blank">{}</a>',
            reverse("members:terms"),
            _("Terms of service"),
            reverse("members:privacy_policy"),
            _("Privacy policy"),
        )


class SendCodeForm(forms.Form):
    """First step of the phone flows: only the number is needed to send a code."""

    phone = PhoneField()


class PhoneRegisterForm(ConsentMixin, forms.Form):
    phone = PhoneField()
    code = CodeField()
    nickname = forms.CharField(label=_("Nickname"), max_length=50, required=False)
    referral_code = forms.CharField(label=_("Invite code (optional)"), max_length=16, required=False)
    field_order = ["phone", "code", "nickname", "referral_code", "agree"]


class EmailRegisterForm(ConsentMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    nickname = forms.CharField(label=_("Nickname"), max_length=50, required=False)
    referral_code = forms.CharField(label=_("Invite code (optional)"), max_length=16, required=False)
    field_order = ["email", "password1", "password2", "nickname", "referral_code", "agree"]

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        if p1:
            try:
                password_validation.validate_password(p1, User(email=data.get("email")))
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class SmsLoginForm(forms.Form):
    phone = PhoneField()
    code = CodeField()


class SmsResetForm(forms.Form):
    phone = PhoneField()
    code = CodeField()
    password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("New password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        if p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ProfileForm(forms.Form):
    nickname = forms.CharField(label=_("Nickname"), max_length=50, required=False)
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=User.Gender.choices, required=False)
    region = forms.CharField(label=_("Region"), max_length=50, required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=50, required=False)

    def clean_birthday(self):
        value = self.cleaned_data.get("birthday")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The birthday cannot be in the future."))
        return value


class ContactEmailForm(forms.Form):
    """Shown on the same page as ContactPhoneForm: distinct HTML ids."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "email_%s")
        super().__init__(*args, **kwargs)

    email = forms.EmailField(label=_("Email"), max_length=254)
    code = CodeField(required=False)


class ContactPhoneForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "phone_%s")
        super().__init__(*args, **kwargs)

    phone = PhoneField()
    code = CodeField(required=False)


class RealNameForm(forms.Form):
    name = forms.CharField(label=_("Name as on your ID card"), max_length=30)
    id_number = forms.CharField(label=_("Resident ID number"), max_length=18, min_length=18)


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document type"), choices=QualificationDocument.Kind.choices)
    file = forms.FileField(label=_("File (PDF, JPEG, PNG or WebP, at most 5 MB)"))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=Ticket.Category.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)
    attachments = MultipleFileField(label=_("Attachments (optional)"), required=False)


class TicketReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    attachments = MultipleFileField(label=_("Attachments (optional)"), required=False)


class TicketCloseForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled it?"),
        choices=[(str(i), str(i)) for i in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class CloseAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = CodeField(required=False, label=_("or an SMS code sent to your phone"))
    confirm = forms.BooleanField(label=_("I understand that closing my account cannot be undone"))

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("code") and self.data.get("action") != "send":
            raise forms.ValidationError(_("Confirm with your password or an SMS code."))
        return data
