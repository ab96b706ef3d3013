"""Fixtures for the members tests: members made through services, operators, captured SMS."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from core import events
from members import sms
from members.models import ThrottleBucket, User
from members.services import ConsentInfo, code_issue, member_register_by_phone


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def published():
    """Records every members/feedback event published during the test."""
    seen: list[tuple[str, dict]] = []
    names = [
        events.MEMBER_REGISTERED,
        events.MEMBER_VERIFIED,
        events.MEMBER_PROFILE_COMPLETED,
        events.MEMBER_STATUS_CHANGED,
        events.MEMBER_CLOSED,
        events.FEEDBACK_ADOPTED,
    ]
    handlers = {}
    for name in names:

        def handler(_name=name, **payload):
            seen.append((_name, payload))

        handlers[name] = handler
        events.subscribe(name, handler)
    yield seen
    for name, handler in handlers.items():
        events.unsubscribe(name, handler)


def last_sms_code(phone: str) -> str:
    for to, text in reversed(sms.outbox):
        if to == phone:
            return "".join(ch for ch in text if ch.isdigit())[:6]
    raise AssertionError(f"no SMS to {phone}")


_counter = {"n": 0}


@pytest.fixture
def make_member(db, django_capture_on_commit_callbacks):
    """A registered member (phone + SMS code through the services)."""

    def make(phone: str | None = None, **kwargs) -> User:
        _counter["n"] += 1
        phone = phone or f"139{_counter['n']:08d}"
        with django_capture_on_commit_callbacks(execute=True):
            issued = code_issue(channel="sms", target=phone, purpose="register", send=False)
        member = member_register_by_phone(
            phone=phone, code=issued.secret, consent=ConsentInfo(ip="10.0.0.1", user_agent="pytest"), **kwargs
        )
        ThrottleBucket.objects.all().delete()  # the fixture's own code must not throttle the test
        return member

    return make


@pytest.fixture
def member(make_member) -> User:
    return make_member()


OPERATOR_PERMISSIONS = (
    "view_user",
    "change_user",
    "add_user",
    "view_realnameverification",
    "change_realnameverification",
    "view_qualificationdocument",
    "change_qualificationdocument",
    "view_ticket",
    "change_ticket",
)


def _make_operator(email: str, *, pii: bool) -> User:
    user = User.objects.create_user(email=email, password="Op3rator-pass!", is_staff=True)
    codenames = OPERATOR_PERMISSIONS + (("view_pii",) if pii else ())
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=codenames, content_type__app_label="members")
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def operator(db) -> User:
    """An operator who may review and answer, but not see unmasked personal data."""
    return _make_operator("ops@example.com", pii=False)


@pytest.fixture
def pii_operator(db) -> User:
    return _make_operator("pii-ops@example.com", pii=True)


@pytest.fixture
def send_code(client, django_capture_on_commit_callbacks):
    """Press a page's "send code" button and return the SMS code that was sent."""

    def send(url: str, phone: str, **extra) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"action": "send", "phone": phone, **extra})
        assert response.status_code == 200
        return last_sms_code(phone)

    return send
