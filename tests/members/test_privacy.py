"""Download my data and close my account."""

import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import registry
from core.errors import ApplicationError
from core.models import AuditLog, Partner
from members.idcard import check_digit
from members.models import ExternalIdentity, User
from members.services import (
    document_upload,
    member_close,
    member_identity_bind,
    member_notify,
    realname_submit,
    ticket_create,
)

from .conftest import last_sms_code

pytestmark = pytest.mark.django_db
FIRST17 = "32010219850615201"
ID_NUMBER = FIRST17 + check_digit(FIRST17)


@pytest.fixture
def export_section():
    registry.register_export_section(
        "test_section", lambda member: {"points": 42, "member": member.member_id}
    )
    yield
    registry._export_sections.pop("test_section", None)


def test_export_all_my_data(client, member, export_section):
    realname_submit(member=member, name="李四", id_number=ID_NUMBER)
    ticket_create(member=member, category="points", subject="积分没到账", body="订单 A1")
    member_notify(member=member, kind="t", title="欢迎")
    client.force_login(member)
    assert client.get(reverse("members:privacy_export")).status_code == 405  # POST only
    response = client.post(reverse("members:privacy_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"]["member_id"] == member.member_id and data["profile"]["phone"] == member.phone
    assert {c["document"] for c in data["consents"]} == {"terms", "privacy"}
    assert data["real_name_verifications"][0]["id_number"] == ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]
    assert ID_NUMBER not in response.content.decode()
    assert data["tickets"][0]["subject"] == "积分没到账"
    assert data["notifications"][0]["title"] == "欢迎"
    assert data["test_section"] == {"points": 42, "member": member.member_id}
    assert AuditLog.objects.filter(action="members.privacy.exported", target_id=member.member_id).exists()


def test_close_account_with_password_anonymises(
    client, member, published, django_capture_on_commit_callbacks
):
    member.set_password("Str0ng-pass-9")
    member.save()
    member_id, phone = member.member_id, member.phone
    partner = Partner.objects.create(name="shop")
    member_identity_bind(member=member, partner=partner, provider="shop", subject="S-1")
    realname_submit(member=member, name="李四", id_number=ID_NUMBER)
    document = document_upload(
        member=member,
        kind="other",
        uploaded=SimpleUploadedFile("d.pdf", b"%PDF x", content_type="application/pdf"),
    )
    client.force_login(member)
    response = client.post(
        reverse("members:privacy"), {"action": "close", "password": "wrong", "confirm": "on"}
    )
    assert response.status_code == 200 and "password" in response.context["form"].errors
    assert User.objects.get(pk=member.pk).status == "active"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:privacy"), {"action": "close", "password": "Str0ng-pass-9", "confirm": "on"}
        )
    assert response.status_code == 302
    closed = User.objects.get(pk=member.pk)
    assert closed.member_id == member_id  # ledgers elsewhere keep pointing at the row
    assert closed.status == "closed" and closed.closed_at and not closed.is_active
    assert closed.phone is None and closed.email is None and closed.nickname == "" and closed.birthday is None
    assert not closed.has_usable_password() and closed.referral_code is None
    assert not ExternalIdentity.objects.filter(member=closed).exists()
    verification = closed.real_name_verifications.get()
    assert verification.id_number_encrypted == "" and verification.id_number_hash == ""
    assert not default_storage.exists(document.storage_name)
    assert "member_closed" in [n for n, _ in published]
    assert AuditLog.objects.filter(action="members.closed", target_id=member_id).exists()
    # logged out, and cannot log in again
    assert client.get(reverse("members:profile")).status_code == 302
    assert not client.login(username=phone, password="Str0ng-pass-9")
    # the phone number is free for a new registration
    assert not User.objects.filter(phone=phone).exists()


def test_close_account_with_sms_code(client, member, send_code):
    client.force_login(member)
    code = send_code(reverse("members:privacy"), member.phone)
    assert code == last_sms_code(member.phone)
    response = client.post(reverse("members:privacy"), {"action": "close", "code": code, "confirm": "on"})
    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).status == "closed"


def test_close_needs_a_proof(member):
    with pytest.raises(ApplicationError):
        member_close(member=member)
    with pytest.raises(ApplicationError):
        member_close(member=member, sms_code="123456")
    assert User.objects.get(pk=member.pk).status == "active"


def test_sms_code_for_closure_needs_a_phone(client):
    user = User.objects.create_user(email="only-mail@example.com", password="Str0ng-pass-9")
    client.force_login(user)
    response = client.post(reverse("members:privacy"), {"action": "send"})
    assert response.status_code == 200 and "code" in response.context["form"].errors
