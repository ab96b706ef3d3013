from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import ApplicationError, RateLimited
from members import sms
from members.models import ThrottleBucket, VerificationCode
from members.services import code_issue, code_verify

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


def test_code_is_six_digits_hashed_and_sent_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = code_issue(channel="sms", target=PHONE, purpose="login", ip="1.2.3.4")
    assert len(issued.secret) == 6 and issued.secret.isdigit()
    row = VerificationCode.objects.get()
    assert issued.secret not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    assert sms.outbox == [(PHONE, sms.outbox[0][1])] and issued.secret in sms.outbox[0][1]


def test_code_is_single_use():
    issued = code_issue(channel="sms", target=PHONE, purpose="login")
    code_verify(channel="sms", target=PHONE, purpose="login", code=issued.secret)
    with pytest.raises(ApplicationError) as exc:
        code_verify(channel="sms", target=PHONE, purpose="login", code=issued.secret)
    assert exc.value.code == "code_invalid"


def test_code_for_another_purpose_does_not_work():
    issued = code_issue(channel="sms", target=PHONE, purpose="login")
    with pytest.raises(ApplicationError):
        code_verify(channel="sms", target=PHONE, purpose="register", code=issued.secret)


def test_expired_code_is_refused():
    issued = code_issue(channel="sms", target=PHONE, purpose="login")
    VerificationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError) as exc:
        code_verify(channel="sms", target=PHONE, purpose="login", code=issued.secret)
    assert exc.value.code == "code_expired"
    assert "code" in exc.value.errors


def test_five_wrong_tries_kill_the_code():
    issued = code_issue(channel="sms", target=PHONE, purpose="login")
    wrong = "000000" if issued.secret != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ApplicationError):
            code_verify(channel="sms", target=PHONE, purpose="login", code=wrong)
    assert VerificationCode.objects.get().attempts == 5
    with pytest.raises(ApplicationError) as exc:
        code_verify(channel="sms", target=PHONE, purpose="login", code=issued.secret)
    assert exc.value.code == "code_attempts_exceeded"


def test_only_the_latest_code_counts():
    first = code_issue(channel="sms", target=PHONE, purpose="login")
    ThrottleBucket.objects.update(window_start=timezone.now() - timedelta(minutes=2))
    second = code_issue(channel="sms", target=PHONE, purpose="login")
    if first.secret != second.secret:
        with pytest.raises(ApplicationError):
            code_verify(channel="sms", target=PHONE, purpose="login", code=first.secret)
    code_verify(channel="sms", target=PHONE, purpose="login", code=second.secret)


def test_resend_to_the_same_phone_is_throttled_per_minute():
    code_issue(channel="sms", target=PHONE, purpose="login")
    with pytest.raises(RateLimited) as exc:
        code_issue(channel="sms", target=PHONE, purpose="register")
    assert 1 <= exc.value.retry_after <= 61
    assert VerificationCode.objects.count() == 1
    ThrottleBucket.objects.filter(key__endswith=":minute").update(
        window_start=timezone.now() - timedelta(seconds=61)
    )
    code_issue(channel="sms", target=PHONE, purpose="login")
    assert VerificationCode.objects.count() == 2


def test_ten_codes_a_day_per_phone():
    for _ in range(10):
        code_issue(channel="sms", target=PHONE, purpose="login")
        ThrottleBucket.objects.filter(key__endswith=":minute").update(
            window_start=timezone.now() - timedelta(seconds=61)
        )
    with pytest.raises(RateLimited):
        code_issue(channel="sms", target=PHONE, purpose="login")


def test_resend_to_the_same_email_is_throttled(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        code_issue(channel="email", target="A@Example.com", purpose="verify_contact")
    assert len(mail.outbox) == 1
    with pytest.raises(RateLimited):
        code_issue(channel="email", target="a@example.com", purpose="verify_contact")


def test_twenty_codes_an_hour_per_ip():
    for i in range(20):
        code_issue(channel="sms", target=f"1370000{i:04d}", purpose="login", ip="9.9.9.9")
    with pytest.raises(RateLimited):
        code_issue(channel="sms", target="13799999999", purpose="login", ip="9.9.9.9")
    # another IP is not affected, and the refused attempt did not count against the phone
    code_issue(channel="sms", target="13799999999", purpose="login", ip="8.8.8.8")


def test_refused_send_does_not_consume_other_buckets():
    code_issue(channel="sms", target=PHONE, purpose="login", ip="5.5.5.5")
    with pytest.raises(RateLimited):
        code_issue(channel="sms", target=PHONE, purpose="login", ip="5.5.5.5")
    assert ThrottleBucket.objects.get(key="code:ip:5.5.5.5:hour").count == 1


def test_purge_job_removes_only_finished_rows():
    from core.models import JobRun
    from members.tasks import purge_codes

    code_issue(channel="sms", target=PHONE, purpose="login")
    code_issue(channel="sms", target="13700000000", purpose="login")
    VerificationCode.objects.filter(target=PHONE).update(expires_at=timezone.now() - timedelta(days=3))
    ThrottleBucket.objects.filter(key__contains=PHONE).update(window_start=timezone.now() - timedelta(days=2))
    result = purge_codes()
    assert result == {"codes": 1, "buckets": 2}
    assert VerificationCode.objects.get().target == "13700000000"
    assert JobRun.objects.get(name="members.purge_codes").status == "succeeded"
    assert purge_codes() == {"codes": 0, "buckets": 0}
