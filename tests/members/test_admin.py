"""Back office: search, filters, forms for our user model, freeze/unfreeze with a reason."""

import pytest
from django.urls import reverse

from core.models import AuditLog, Partner
from members.models import User
from members.services import member_identity_bind, ticket_create

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:members_user_changelist"


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.com", password="R00t-pass-word")


@pytest.fixture
def many_members(make_member):
    return [make_member() for _ in range(5)]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?q=13900000001",
        "?q=m_x",
        "?q=someone@example.com",
        "?q=ext:S-9",
        "?q=王",
        "?status=frozen",
        "?channel=app",
        "?verification_level=contact",
        "?kind=members",
        "?date_joined__gte=2020-01-01T00:00:00%2B08:00",
    ],
)
def test_changelist_and_search_load_in_few_queries(
    client, superuser, many_members, query, django_assert_max_num_queries
):
    client.force_login(superuser)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200


def test_search_finds_by_phone_email_member_id_external_id_and_nickname(client, superuser, make_member):
    target = make_member(nickname="独特昵称")
    User.objects.filter(pk=target.pk).update(email="find.me@example.com")
    other = make_member()
    member_identity_bind(
        member=target, partner=Partner.objects.create(name="shop"), provider="shop", subject="S-42"
    )
    client.force_login(superuser)
    for term in (target.phone, "find.me@example.com", target.member_id, "ext:S-42", "S-42", "独特"):
        response = client.get(reverse(CHANGELIST), {"q": term})
        ids = [obj.pk for obj in response.context["cl"].result_list]
        assert ids == [target.pk], term
        assert other.pk not in ids


def test_changelist_masks_contacts_without_view_pii(client, operator, pii_operator, member):
    client.force_login(operator)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert member.phone not in html and member.phone[:3] + "****" + member.phone[-4:] in html
    client.force_login(pii_operator)
    assert member.phone in client.get(reverse(CHANGELIST)).content.decode()


def test_change_page_with_inlines(client, superuser, member, django_assert_max_num_queries):
    ticket_create(member=member, category="other", subject="subject", body="body")
    client.force_login(superuser)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("admin:members_user_change", args=[member.pk]))
    assert response.status_code == 200
    assert "subject" in response.content.decode()


def test_add_member_by_phone_and_operator_by_email(client, superuser):
    client.force_login(superuser)
    url = reverse("admin:members_user_add")
    assert client.get(url).status_code == 200
    response = client.post(url, {"phone": "13700001234", "password1": "", "password2": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    member = User.objects.get(phone="13700001234")
    assert not member.has_usable_password() and member.referral_code
    response = client.post(
        url,
        {
            "email": "New.Op@Example.com",
            "is_staff": "on",
            "password1": "Op-passw0rd-77",
            "password2": "Op-passw0rd-77",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new.op@example.com").check_password("Op-passw0rd-77")
    response = client.post(url, {"password1": "", "password2": ""})
    assert response.status_code == 200  # neither email nor phone


def test_change_member_saves(client, superuser, member):
    client.force_login(superuser)
    url = reverse("admin:members_user_change", args=[member.pk])
    form = client.get(url).context["adminform"].form
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("groups", "user_permissions", "password")
    }
    data.update({"nickname": "改名", "birthday": "", "last_login_0": "", "last_login_1": ""})
    for prefix in ("external_identities", "real_name_verifications", "documents", "tickets", "consents"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    assert User.objects.get(pk=member.pk).nickname == "改名"
    log = AuditLog.objects.get(action="members.profile.updated")
    assert log.actor_user == superuser and log.after == {"nickname": "改名"}


def test_freeze_and_unfreeze_with_reason(client, operator, member, published):
    client.force_login(operator)
    url = reverse(CHANGELIST)
    response = client.post(url, {"action": "freeze_members", "_selected_action": [member.pk]})
    assert response.status_code == 200 and b'name="reason"' in response.content
    assert User.objects.get(pk=member.pk).status == "active"
    response = client.post(
        url, {"action": "freeze_members", "_selected_action": [member.pk], "apply": "1", "reason": ""}
    )
    assert response.status_code == 200  # reason required
    response = client.post(
        url, {"action": "freeze_members", "_selected_action": [member.pk], "apply": "1", "reason": "刷单嫌疑"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.status == "frozen" and member.status_reason == "刷单嫌疑"
    log = AuditLog.objects.get(action="members.frozen")
    assert log.actor_user == operator and log.note == "刷单嫌疑"
    assert ("member_status_changed", "frozen") in [(n, p.get("new")) for n, p in published]
    client.post(
        url,
        {"action": "unfreeze_members", "_selected_action": [member.pk], "apply": "1", "reason": "申诉通过"},
    )
    assert User.objects.get(pk=member.pk).status == "active"
    assert AuditLog.objects.filter(action="members.unfrozen").exists()


def test_review_queues_and_tickets_load(client, superuser, member):
    ticket_create(member=member, category="other", subject="s", body="b")
    client.force_login(superuser)
    for name in (
        "admin:members_realnameverification_changelist",
        "admin:members_qualificationdocument_changelist",
        "admin:members_ticket_changelist",
        "admin:members_notification_changelist",
    ):
        assert client.get(reverse(name)).status_code == 200, name
        assert client.get(reverse(name) + "?q=" + member.member_id).status_code == 200, name


@pytest.mark.postgres
def test_large_filtered_lists_use_the_planner_estimate(client, superuser, many_members, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.admin import LargeTablePaginator

    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_ABOVE", 1)
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(CHANGELIST) + "?status__exact=active")
    assert response.status_code == 200
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert any(q["sql"].startswith("EXPLAIN") for q in ctx.captured_queries)
