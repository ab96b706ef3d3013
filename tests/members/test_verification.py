"""Real-name verification, documents, masking, view_pii and the audit of unmasked views."""

from datetime import date

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import ApplicationError, Forbidden
from core.models import AuditLog, OutboxEvent
from members import crypto
from members.idcard import check_digit
from members.models import QualificationDocument, RealNameVerification, User
from members.services import (
    document_open,
    document_review,
    document_upload,
    member_profile_update,
    realname_reveal,
    realname_review,
    realname_submit,
)

pytestmark = pytest.mark.django_db
FIRST17 = "11010519900307123"
ID_NUMBER = FIRST17 + check_digit(FIRST17)
MASKED = ID_NUMBER[:3] + "*" * 11 + ID_NUMBER[-4:]
PDF = b"%PDF-1.4 qualification document bytes"


def _pdf(name="licence.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_realname_auto_approved_and_encrypted(member, published):
    verification = realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    assert verification.status == "approved" and verification.auto_approved
    assert verification.birth_date == date(1990, 3, 7) and verification.region_code == "110105"
    assert verification.id_number_masked == MASKED
    assert ID_NUMBER not in verification.id_number_encrypted and "王小明" not in verification.name_encrypted
    assert crypto.decrypt_str(verification.id_number_encrypted) == ID_NUMBER
    member.refresh_from_db()
    assert member.verification_level == "real_name"
    assert member.birthday == date(1990, 3, 7)  # derived and stored
    assert ("member_verified", {"member": member, "level": "real_name"}) in [(n, p) for n, p in published]
    assert OutboxEvent.objects.filter(type="member.verified", data__member_id=member.member_id).exists()


def test_birthday_mismatch_goes_to_review_then_operator_approves(member, operator, published):
    member_profile_update(member=member, birthday=date(1991, 1, 1))
    verification = realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    assert verification.status == "pending"
    assert not [n for n, _ in published if n == "member_verified"]
    with pytest.raises(ApplicationError):
        realname_review(verification=verification, actor=operator, approve=False, reason="")
    realname_review(verification=verification, actor=operator, approve=True)
    member.refresh_from_db()
    assert member.verification_level == "real_name"
    assert AuditLog.objects.filter(action="members.realname.reviewed", target_id=member.member_id).exists()


def test_rejection_needs_a_reason_and_notifies(member, operator):
    member_profile_update(member=member, birthday=date(1991, 1, 1))
    verification = realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    realname_review(verification=verification, actor=operator, approve=False, reason="照片不清晰")
    verification.refresh_from_db()
    assert verification.status == "rejected" and verification.review_note == "照片不清晰"
    assert member.notifications.filter(kind="verification.rejected").exists()


@pytest.mark.parametrize(
    ("number", "field"),
    [
        (FIRST17 + ("0" if check_digit(FIRST17) != "0" else "1"), "id_number"),
        ("990105199003071230", "id_number"),
        ("110105199002301230", "id_number"),
    ],
)
def test_invalid_id_number_is_a_field_error(member, number, field):
    with pytest.raises(ApplicationError) as exc:
        realname_submit(member=member, name="王小明", id_number=number)
    assert field in exc.value.errors
    assert not RealNameVerification.objects.exists()


def test_same_id_number_cannot_verify_two_accounts(make_member):
    realname_submit(member=make_member(), name="王小明", id_number=ID_NUMBER)
    with pytest.raises(ApplicationError) as exc:
        realname_submit(member=make_member(), name="王小明", id_number=ID_NUMBER)
    assert exc.value.code == "id_number_taken"


def test_reveal_needs_view_pii_and_is_audited(member, operator, pii_operator):
    verification = realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    with pytest.raises(Forbidden):
        realname_reveal(verification=verification, viewer=operator)
    assert not AuditLog.objects.filter(action="members.pii.viewed").exists()
    data = realname_reveal(verification=verification, viewer=pii_operator)
    assert data == {"name": "王小明", "id_number": ID_NUMBER}
    log = AuditLog.objects.get(action="members.pii.viewed")
    assert log.actor_user == pii_operator and log.target_id == member.member_id


def test_member_page_shows_only_the_masked_number(client, member):
    realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    client.force_login(member)
    html = client.get(reverse("members:verification")).content.decode()
    assert MASKED in html and ID_NUMBER not in html and "王小明" not in html


def test_realname_through_the_page(client, member):
    client.force_login(member)
    response = client.post(
        reverse("members:verification"), {"form": "realname", "name": "王小明", "id_number": "123"}
    )
    assert response.status_code == 200 and "id_number" in response.context["realname_form"].errors
    response = client.post(
        reverse("members:verification"), {"form": "realname", "name": "王小明", "id_number": ID_NUMBER}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=member.pk).verification_level == "real_name"


def test_admin_masks_unless_view_pii_and_audits_the_reveal(client, member, operator, pii_operator):
    verification = realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    url = reverse("admin:members_realnameverification_change", args=[verification.pk])
    client.force_login(operator)
    html = client.get(url + "?reveal=1").content.decode()
    assert MASKED in html and ID_NUMBER not in html
    html = client.get(
        reverse("admin:members_realnameverification_changelist") + "?review=all"
    ).content.decode()
    assert MASKED in html and ID_NUMBER not in html
    html = client.get(reverse("admin:members_user_change", args=[member.pk])).content.decode()
    assert ID_NUMBER not in html and member.phone not in html  # phone masked too
    assert not AuditLog.objects.filter(action="members.pii.viewed").exists()
    client.force_login(pii_operator)
    html = client.get(url).content.decode()
    assert ID_NUMBER not in html  # masked until asked for
    html = client.get(url + "?reveal=1").content.decode()
    assert ID_NUMBER in html
    assert AuditLog.objects.filter(action="members.pii.viewed", actor_user=pii_operator).count() == 1


def test_document_is_encrypted_at_rest_and_served_to_owner(client, member, published):
    document = document_upload(member=member, kind="business_license", uploaded=_pdf())
    with default_storage.open(document.storage_name, "rb") as fh:
        stored = fh.read()
    assert PDF not in stored
    client.force_login(member)
    response = client.get(reverse("members:document", args=[document.public_id]))
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert AuditLog.objects.filter(action="members.document.viewed").count() == 1


def test_document_upload_validation(member):
    with pytest.raises(ApplicationError) as exc:
        document_upload(
            member=member,
            kind="other",
            uploaded=SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload"),
        )
    assert "file" in exc.value.errors
    with pytest.raises(ApplicationError) as exc:
        document_upload(member=member, kind="nonsense", uploaded=_pdf())
    assert "kind" in exc.value.errors


def test_document_review_queue(member, operator, published):
    document = document_upload(member=member, kind="student_card", uploaded=_pdf())
    document_review(document=document, actor=operator, approve=True)
    member.refresh_from_db()
    assert member.verification_level == "qualified"
    assert ("member_verified", "qualification") in [(n, p.get("level")) for n, p in published]
    with pytest.raises(ApplicationError):
        document_review(document=document, actor=operator, approve=False, reason="late")


def test_documents_need_view_pii_for_operators(client, member, operator, pii_operator):
    document = document_upload(member=member, kind="other", uploaded=_pdf())
    with pytest.raises(Forbidden):
        document_open(document=document, viewer=operator)
    url = reverse("admin:members_document_open", args=[document.pk])
    client.force_login(operator)
    assert client.get(url).status_code == 403
    client.force_login(pii_operator)
    response = client.get(url)
    assert response.status_code == 200 and response.content == PDF
    assert AuditLog.objects.filter(action="members.document.viewed", actor_user=pii_operator).exists()


def test_review_actions_in_admin(client, member, operator):
    member_profile_update(member=member, birthday=date(1991, 1, 1))
    verification = realname_submit(member=member, name="王小明", id_number=ID_NUMBER)
    document = document_upload(member=member, kind="other", uploaded=_pdf())
    client.force_login(operator)
    url = reverse("admin:members_realnameverification_changelist")
    response = client.post(url, {"action": "reject", "_selected_action": [verification.pk]})
    assert response.status_code == 200 and b"reason" in response.content  # intermediate page
    response = client.post(
        url, {"action": "reject", "_selected_action": [verification.pk], "apply": "1", "reason": "模糊"}
    )
    assert response.status_code == 302
    verification.refresh_from_db()
    assert verification.status == "rejected" and verification.review_note == "模糊"
    url = reverse("admin:members_qualificationdocument_changelist")
    response = client.post(url, {"action": "approve", "_selected_action": [document.pk]})
    assert response.status_code == 302
    assert QualificationDocument.objects.get(pk=document.pk).status == "approved"


def test_review_queue_opens_on_pending(client, make_member, operator):
    approved = realname_submit(member=make_member(), name="王小明", id_number=ID_NUMBER)
    waiting_member = make_member()
    member_profile_update(member=waiting_member, birthday=date(1991, 1, 1))
    first17 = "31010119800101123"
    pending = realname_submit(member=waiting_member, name="赵六", id_number=first17 + check_digit(first17))
    client.force_login(operator)
    url = reverse("admin:members_realnameverification_changelist")
    shown = [o.pk for o in client.get(url).context["cl"].result_list]
    assert shown == [pending.pk]
    shown = [o.pk for o in client.get(url + "?review=all").context["cl"].result_list]
    assert set(shown) == {pending.pk, approved.pk}


def test_document_bytes_must_match_the_declared_type(member):
    fake = SimpleUploadedFile("x.png", b"<html><script>alert(1)</script>", content_type="image/png")
    with pytest.raises(ApplicationError) as exc:
        document_upload(member=member, kind="other", uploaded=fake)
    assert "file" in exc.value.errors
