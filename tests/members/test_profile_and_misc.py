import io
import json
import random
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from members import crypto, sms
from members.idcard import check_digit
from members.models import RealNameVerification, RegistrationSource, User
from members.seed import seed_members
from members.services import member_profile_update, profile_completeness, realname_submit

from .conftest import last_sms_code

pytestmark = pytest.mark.django_db


def test_profile_completed_event_only_the_first_time(client, member, published):
    assert profile_completeness(member) == 17  # verified phone only
    client.force_login(member)
    response = client.post(
        reverse("members:profile"),
        {
            "nickname": "阿明",
            "birthday": "1990-01-02",
            "gender": "male",
            "region": "广东",
            "occupation": "工程师",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert profile_completeness(member) == 100 and member.profile_completed_at
    assert [n for n, _ in published].count("member_profile_completed") == 1
    member_profile_update(member=member, occupation="")
    member_profile_update(member=member, occupation="设计师")
    assert [n for n, _ in published].count("member_profile_completed") == 1
    html = client.get(reverse("members:profile")).content.decode()
    assert "100%" in html


def test_profile_rejects_future_birthday(client, member):
    client.force_login(member)
    response = client.post(reverse("members:profile"), {"birthday": "2999-01-01", "gender": ""})
    assert response.status_code == 200 and "birthday" in response.context["form"].errors


def test_verify_email_with_a_code(client, member, django_capture_on_commit_callbacks):
    from django.core import mail

    client.force_login(member)
    url = reverse("members:contact")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"kind": "email", "action": "send", "email": "Me@Example.com"})
    code = "".join(c for c in mail.outbox[-1].body if c.isdigit())[:6]
    response = client.post(
        url, {"kind": "email", "action": "verify", "email": "me@example.com", "code": code}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email == "me@example.com" and member.email_verified_at


def test_home_panel_shows_unread_and_completeness(client, member):
    from members.services import member_notify

    member_notify(member=member, kind="t", title="hello")
    client.force_login(member)
    response = client.get(reverse("members:home"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "1 unread" in html or "1 条未读" in html
    assert "17%" in html


def test_chinese_is_the_default_language_and_english_available(client):
    html = client.get(reverse("members:register")).content.decode()
    assert "手机号注册" in html and "邮箱密码注册" in html
    html = client.get(reverse("members:register"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Register with your mobile number" in html


def test_file_sms_backend(tmp_path, settings):
    settings.SMS_BACKEND = "members.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    sms.send_sms("13800000000", "验证码 123456")
    (log,) = tmp_path.iterdir()
    line = json.loads(log.read_text(encoding="utf-8").strip())
    assert line["to"] == "13800000000" and line["text"] == "验证码 123456"


def test_key_rotation_reencrypts(member, settings):
    first17 = "44030119880808123"
    number = first17 + check_digit(first17)
    realname_submit(member=member, name="陈一", id_number=number)
    old_token = RealNameVerification.objects.get().id_number_encrypted
    from cryptography.fernet import Fernet

    from core import crypto as core_crypto

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
    core_crypto._fernet.cache_clear()
    call_command("members_rotate_keys", stdout=io.StringIO())
    row = RealNameVerification.objects.get()
    assert row.id_number_encrypted != old_token
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # only the new key now
    core_crypto._fernet.cache_clear()
    assert crypto.decrypt_str(row.id_number_encrypted) == number
    assert row.id_number_hash == crypto.pii_hash(number)


def test_seed_is_repeatable_and_fills_codes_and_sources():
    seed_members(members=300, stdout=io.StringIO(), rng=random.Random(7))
    seed_members(members=50, stdout=io.StringIO(), rng=random.Random(7))  # --force twice: no clash
    assert User.objects.count() == 350
    assert not User.objects.filter(referral_code__isnull=True).exists()
    assert RegistrationSource.objects.count() == 350
    assert User.objects.filter(referred_by__isnull=False).exists()
    assert User.objects.filter(birthday__lte=date.today()).exists()


def test_sms_code_text_contains_the_code(member, send_code, client):
    code = send_code(reverse("members:login_sms"), member.phone)
    assert code == last_sms_code(member.phone) and len(code) == 6
