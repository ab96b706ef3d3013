"""Registration, log-in, reset and log-out through the test client."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from core.models import OutboxEvent
from members.models import Consent, RegistrationSource, User

from .conftest import last_sms_code

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def _register_by_phone(client, send_code, phone=PHONE, **extra):
    url = reverse("members:register_phone")
    code = send_code(url, phone)
    data = {"action": "register", "phone": phone, "code": code, "agree": "on", **extra}
    return client.post(url, data, HTTP_USER_AGENT="Mozilla/5.0 test", REMOTE_ADDR="10.1.2.3")


def test_phone_registration_with_sms_code(
    client, send_code, django_capture_on_commit_callbacks, published, settings
):
    client.get(
        reverse("members:register")
        + "?utm_source=wechat&utm_medium=social&utm_campaign=d11&channel=app&store_id=S01",
        HTTP_REFERER="https://example.com/landing",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _register_by_phone(client, send_code, nickname="小王")
    assert response.status_code == 302 and response.url == reverse("members:home")
    member = User.objects.get(phone=PHONE)
    assert member.phone_verified_at is not None
    assert member.nickname == "小王"
    assert member.referral_code and len(member.referral_code) == 10
    assert member.verification_level == "contact"
    assert member.channel == "app"
    consents = {c.document: c for c in Consent.objects.filter(member=member)}
    assert consents["terms"].version == settings.TERMS_VERSION
    assert consents["privacy"].version == settings.PRIVACY_POLICY_VERSION
    assert consents["terms"].ip_address == "10.1.2.3" and consents["terms"].user_agent == "Mozilla/5.0 test"
    source = RegistrationSource.objects.get(member=member)
    assert (source.utm_source, source.utm_medium, source.utm_campaign, source.store_id) == (
        "wechat",
        "social",
        "d11",
        "S01",
    )
    assert source.referrer == "https://example.com/landing"
    assert [name for name, _ in published] == ["member_registered", "member_verified"]
    assert published[1][1]["level"] == "contact"
    assert OutboxEvent.objects.filter(type="member.created", data__member_id=member.member_id).exists()
    # logged in: the home page shows the member's own panel
    home = client.get(reverse("members:home"))
    assert member.member_id in home.content.decode()
    assert "mh-panel-member" in home.content.decode()


def test_registration_requires_consent_and_a_valid_code(client, send_code):
    url = reverse("members:register_phone")
    send_code(url, PHONE)
    response = client.post(url, {"action": "register", "phone": PHONE, "code": "12345x"})
    assert response.status_code == 200
    assert "agree" in response.context["form"].errors
    assert not User.objects.filter(phone=PHONE).exists()
    response = client.post(
        url,
        {
            "action": "register",
            "phone": PHONE,
            "code": "000000" if last_sms_code(PHONE) != "000000" else "111111",
            "agree": "on",
        },
    )
    assert "code" in response.context["form"].errors
    assert not User.objects.filter(phone=PHONE).exists()


def test_bad_phone_number_is_a_field_error(client):
    response = client.post(reverse("members:register_phone"), {"action": "send", "phone": "12345"})
    assert "phone" in response.context["form"].errors


def test_invite_code_links_the_referrer(client, send_code, make_member, published):
    referrer = make_member()
    published.clear()
    client.get(reverse("members:register") + f"?ref={referrer.referral_code}")
    response = client.get(reverse("members:register_phone"))
    assert response.context["form"].initial["referral_code"] == referrer.referral_code
    response = _register_by_phone(client, send_code, referral_code=referrer.referral_code.lower())
    assert response.status_code == 302
    member = User.objects.get(phone=PHONE)
    assert member.referred_by == referrer
    name, payload = published[0]
    assert name == "member_registered" and payload["referrer"] == referrer and payload["member"] == member


def test_unknown_invite_code_is_a_field_error(client, send_code):
    response = _register_by_phone(client, send_code, referral_code="NOPE123456")
    assert response.status_code == 200
    assert "referral_code" in response.context["form"].errors
    assert not User.objects.filter(phone=PHONE).exists()


def test_email_registration_with_confirmation_link(client, django_capture_on_commit_callbacks, published):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:register_email"),
            {
                "email": "Li.Na@Example.com",
                "password1": "Str0ng-pass-9",
                "password2": "Str0ng-pass-9",
                "agree": "on",
            },
        )
    assert response.status_code == 200
    member = User.objects.get(email="li.na@example.com")
    assert not member.is_active and member.email_verified_at is None
    assert published == []
    # cannot log in before confirming
    assert not client.login(username="li.na@example.com", password="Str0ng-pass-9")
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    path = link.split("testserver", 1)[1]
    assert client.get(path).status_code == 200  # GET only shows a button
    assert not User.objects.get(pk=member.pk).is_active
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_active and member.email_verified_at and member.verification_level == "contact"
    assert [name for name, _ in published] == ["member_registered", "member_verified"]
    # single use
    client.logout()
    assert client.post(path).status_code == 400
    assert client.login(username="li.na@example.com", password="Str0ng-pass-9")


def test_email_registration_rejects_a_taken_address(client, make_member):
    User.objects.create_user(email="taken@example.com", password="x-Passw0rd-1")
    response = client.post(
        reverse("members:register_email"),
        {
            "email": "taken@example.com",
            "password1": "Str0ng-pass-9",
            "password2": "Str0ng-pass-9",
            "agree": "on",
        },
    )
    assert "email" in response.context["form"].errors


def test_login_by_sms_code(client, member, send_code):
    url = reverse("members:login_sms")
    code = send_code(url, member.phone)
    response = client.post(url, {"action": "login", "phone": member.phone, "code": code})
    assert response.status_code == 302
    assert client.get(reverse("members:profile")).status_code == 200


def test_login_by_sms_code_for_unknown_number(client, send_code):
    url = reverse("members:login_sms")
    code = send_code(url, "13700000001")
    response = client.post(url, {"action": "login", "phone": "13700000001", "code": code})
    assert response.status_code == 200 and "phone" in response.context["form"].errors


def test_login_by_password_with_phone_or_email_and_logout(client):
    User.objects.create_user(email="pw@example.com", phone="13611112222", password="Str0ng-pass-9")
    for username in ("pw@example.com", "13611112222"):
        response = client.post(reverse("members:login"), {"username": username, "password": "Str0ng-pass-9"})
        assert response.status_code == 302
        client.post(reverse("members:logout"))
        assert client.get(reverse("members:profile")).status_code == 302


def test_frozen_member_can_still_log_in_but_closed_cannot(client):
    user = User.objects.create_user(email="c@example.com", password="Str0ng-pass-9")
    User.objects.filter(pk=user.pk).update(status="closed")
    response = client.post(
        reverse("members:login"), {"username": "c@example.com", "password": "Str0ng-pass-9"}
    )
    assert response.status_code == 200


def test_password_reset_by_email(client):
    User.objects.create_user(email="reset@example.com", password="Old-passw0rd-1")
    response = client.post(reverse("members:password_reset"), {"email": "reset@example.com"})
    assert response.status_code == 302
    body = mail.outbox[-1].body
    path = re.search(r"http://testserver(\S+)", body).group(1)
    response = client.get(path, follow=True)
    assert response.status_code == 200
    set_url = response.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "N3w-passw0rd-2", "new_password2": "N3w-passw0rd-2"})
    assert response.status_code == 302
    assert client.login(username="reset@example.com", password="N3w-passw0rd-2")


def test_password_reset_by_sms(client, member, send_code):
    url = reverse("members:password_reset_sms")
    send_code(url, member.phone)
    response = client.post(
        url,
        {
            "action": "reset",
            "phone": member.phone,
            "code": last_sms_code(member.phone),
            "password1": "N3w-passw0rd-2",
            "password2": "N3w-passw0rd-2",
        },
    )
    assert response.status_code == 302
    assert client.login(username=member.phone, password="N3w-passw0rd-2")


def test_member_pages_render_in_english_and_chinese(client, member):
    client.force_login(member)
    for name in (
        "members:home",
        "members:profile",
        "members:verification",
        "members:inbox",
        "members:tickets",
        "members:ticket_new",
        "members:privacy",
        "members:contact",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    client.logout()
    for name in (
        "members:terms",
        "members:privacy_policy",
        "members:login",
        "members:login_sms",
        "members:register",
        "members:register_phone",
        "members:register_email",
        "members:password_reset",
        "members:password_reset_sms",
    ):
        assert client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en").status_code == 200, name


def test_someone_else_registering_the_address_cannot_choose_its_password(
    client, django_capture_on_commit_callbacks
):
    from members.models import ThrottleBucket

    url = reverse("members:register_email")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {
                "email": "v@example.com",
                "password1": "Own3r-pass-9",
                "password2": "Own3r-pass-9",
                "agree": "on",
            },
        )
    owner_link = re.search(r"http://testserver(\S+)", mail.outbox[-1].body).group(1)
    ThrottleBucket.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {
                "email": "v@example.com",
                "password1": "Att4cker-pass",
                "password2": "Att4cker-pass",
                "agree": "on",
            },
        )
    assert User.objects.filter(email="v@example.com").count() == 1
    client.post(owner_link)
    client.logout()
    assert client.login(username="v@example.com", password="Own3r-pass-9")
    assert not client.login(username="v@example.com", password="Att4cker-pass")


def test_sms_login_does_not_redirect_off_site(client, member, send_code):
    url = reverse("members:login_sms")
    code = send_code(url, member.phone)
    response = client.post(
        url, {"action": "login", "phone": member.phone, "code": code, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == reverse("members:home")


def test_sms_login_verifies_a_partner_given_phone(client, send_code, published):
    user = User.objects.create_user(phone="13755556666")
    assert user.phone_verified_at is None
    code = send_code(reverse("members:login_sms"), "13755556666")
    client.post(reverse("members:login_sms"), {"action": "login", "phone": "13755556666", "code": code})
    user.refresh_from_db()
    assert user.phone_verified_at and user.verification_level == "contact"
    assert ("member_verified", "contact") in [(n, p.get("level")) for n, p in published]


def test_registration_links_the_documents_and_their_versions(client, settings):
    html = client.get(reverse("members:register_phone")).content.decode()
    assert reverse("members:terms") in html and reverse("members:privacy_policy") in html
    assert settings.TERMS_VERSION in client.get(reverse("members:terms")).content.decode()
    html = client.get(reverse("members:register_email")).content.decode()
    assert reverse("members:privacy_policy") in html


def test_send_button_is_throttled_with_a_field_error(client, send_code):
    url = reverse("members:register_phone")
    send_code(url, PHONE)
    response = client.post(url, {"action": "send", "phone": PHONE, "nickname": "kept"})
    form = response.context["form"]
    assert "code" in form.errors
    assert form["nickname"].value() == "kept"
