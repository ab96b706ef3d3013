"""Races on PostgreSQL: one code, one use; one send per window; one registration per phone."""

import threading

import pytest
from django.db import connection

from core.errors import ApplicationError, RateLimited
from members.models import ThrottleBucket, User, VerificationCode
from members.services import ConsentInfo, code_issue, code_verify, member_register_by_phone

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PHONE = "13500000000"


def _race(func, n=6):
    barrier = threading.Barrier(n)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(("ok", func()))
        except (ApplicationError, RateLimited) as exc:
            results.append(("refused", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_a_code_is_used_once_under_concurrency():
    issued = code_issue(channel="sms", target=PHONE, purpose="login", send=False)
    results = _race(lambda: code_verify(channel="sms", target=PHONE, purpose="login", code=issued.secret))
    assert [r for r, _ in results].count("ok") == 1


def test_only_one_send_per_minute_under_concurrency():
    results = _race(
        lambda: code_issue(channel="sms", target=PHONE, purpose="login", ip="1.1.1.1", send=False)
    )
    assert [r for r, _ in results].count("ok") == 1
    assert VerificationCode.objects.count() == 1
    assert ThrottleBucket.objects.get(key="code:ip:1.1.1.1:hour").count == 1


def test_one_registration_per_phone_under_concurrency():
    issued = code_issue(channel="sms", target=PHONE, purpose="register", send=False)
    results = _race(
        lambda: member_register_by_phone(phone=PHONE, code=issued.secret, consent=ConsentInfo(ip="1.1.1.1"))
    )
    assert [r for r, _ in results].count("ok") == 1
    assert User.objects.filter(phone=PHONE).count() == 1
