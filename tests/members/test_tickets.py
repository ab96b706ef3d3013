"""Feedback tickets and what one member may see of another (nothing)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.errors import ApplicationError
from members.models import Notification, Ticket
from members.services import (
    member_notify,
    ticket_adopt,
    ticket_close_by_member,
    ticket_create,
    ticket_reply,
    ticket_update,
)

pytestmark = pytest.mark.django_db


def _ticket(member, **kwargs):
    defaults = {"category": "suggestion", "subject": "更多积分商品", "body": "希望积分商城多一些家居用品"}
    return ticket_create(member=member, **{**defaults, **kwargs})


def test_ticket_lifecycle(member, operator, settings):
    settings.MEMBERS_TICKET_SLA_HOURS = {"urgent": 2}
    ticket = _ticket(member, priority="urgent")
    assert (ticket.sla_due_at - ticket.created_at).total_seconds() == 2 * 3600
    assert ticket.status == "open"
    ticket_update(ticket=ticket, actor=operator, assignee=operator)
    ticket_reply(ticket=ticket, author=operator, body="内部：转产品", internal=True)
    assert not Notification.objects.filter(member=member).exists()  # internal note: no message
    ticket_reply(ticket=ticket, author=operator, body="感谢建议，我们会评估")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and ticket.first_response_at and ticket.assignee == operator
    assert Notification.objects.filter(member=member, kind="feedback.reply").count() == 1
    ticket_update(ticket=ticket, actor=operator, status="resolved", note="已上架")
    assert Notification.objects.filter(member=member, kind="feedback.status").count() == 1
    ticket_close_by_member(ticket=ticket, member=member, satisfaction=5)
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.satisfaction == 5 and ticket.closed_at
    assert [c.new_status for c in ticket.status_changes.all()] == [
        "open",
        "in_progress",
        "resolved",
        "closed",
    ]
    with pytest.raises(ApplicationError):
        ticket_reply(ticket=ticket, author=member, body="again")


def test_satisfaction_must_be_1_to_5(member):
    ticket = _ticket(member)
    with pytest.raises(ApplicationError) as exc:
        ticket_close_by_member(ticket=ticket, member=member, satisfaction=6)
    assert "satisfaction" in exc.value.errors


def test_validation_errors_per_field(member):
    with pytest.raises(ApplicationError) as exc:
        ticket_create(member=member, category="bogus", subject="", body="")
    assert set(exc.value.errors) == {"category", "subject", "body"}


def test_adopted_suggestion_publishes_points_reward(member, operator, published):
    ticket = _ticket(member)
    ticket_adopt(ticket=ticket, actor=operator, points=200)
    ticket.refresh_from_db()
    assert ticket.adopted and ticket.reward_points == 200
    name, payload = [e for e in published if e[0] == "feedback_adopted"][0]
    assert payload["member"] == member and payload["ticket"].pk == ticket.pk and payload["points"] == 200
    with pytest.raises(ApplicationError):
        ticket_adopt(ticket=ticket, actor=operator, points=200)  # once only
    complaint = _ticket(member, category="complaint")
    with pytest.raises(ApplicationError):
        ticket_adopt(ticket=complaint, actor=operator, points=10)


def test_member_pages_hide_internal_notes(client, member, operator):
    ticket = _ticket(member)
    ticket_reply(ticket=ticket, author=operator, body="SECRET-INTERNAL", internal=True)
    ticket_reply(ticket=ticket, author=operator, body="PUBLIC-REPLY")
    client.force_login(member)
    html = client.get(reverse("members:ticket", args=[ticket.public_id])).content.decode()
    assert "PUBLIC-REPLY" in html and "SECRET-INTERNAL" not in html


def test_ticket_pages_flow(client, member):
    client.force_login(member)
    upload = SimpleUploadedFile("shot.png", b"\x89PNG fake", content_type="image/png")
    response = client.post(
        reverse("members:ticket_new"),
        {"category": "complaint", "subject": "配送慢", "body": "订单三天未发货", "attachments": [upload]},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(member=member)
    assert ticket.attachments.count() == 1
    url = reverse("members:ticket", args=[ticket.public_id])
    assert client.post(url, {"action": "reply", "body": "补充：订单号 123"}).status_code == 302
    assert client.post(url, {"action": "close", "satisfaction": "4"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.satisfaction == 4
    attachment = ticket.attachments.get()
    response = client.get(reverse("members:attachment", args=[attachment.public_id]))
    assert response.status_code == 200 and response.content == b"\x89PNG fake"


def test_url_tampering_shows_nothing_of_another_member(client, make_member, operator):
    owner, intruder = make_member(), make_member()
    upload = SimpleUploadedFile("a.pdf", b"%PDF secret", content_type="application/pdf")
    ticket = ticket_create(member=owner, category="account", subject="s", body="b", attachments=[upload])
    attachment = ticket.attachments.get()
    from members.services import document_upload

    document = document_upload(
        member=owner,
        kind="other",
        uploaded=SimpleUploadedFile("d.pdf", b"%PDF doc", content_type="application/pdf"),
    )
    note = member_notify(member=owner, kind="test", title="private title")
    client.force_login(intruder)
    assert client.get(reverse("members:ticket", args=[ticket.public_id])).status_code == 404
    assert (
        client.post(
            reverse("members:ticket", args=[ticket.public_id]), {"action": "reply", "body": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("members:ticket", args=[ticket.public_id]), {"action": "close", "satisfaction": "1"}
        ).status_code
        == 404
    )
    assert client.get(reverse("members:attachment", args=[attachment.public_id])).status_code == 404
    assert client.get(reverse("members:document", args=[document.public_id])).status_code == 404
    client.post(reverse("members:inbox_read", args=[note.pk]))
    note.refresh_from_db()
    assert note.read_at is None
    assert "private title" not in client.get(reverse("members:inbox")).content.decode()
    assert (
        ticket.subject not in client.get(reverse("members:tickets")).content.decode() or ticket.subject == "s"
    )
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.replies.count() == 0


def test_inbox_mark_read(client, member):
    first = member_notify(member=member, kind="t", title="第一条")
    member_notify(member=member, kind="t", title="第二条")
    client.force_login(member)
    html = client.get(reverse("members:inbox")).content.decode()
    assert "第一条" in html and "第二条" in html
    client.post(reverse("members:inbox_read", args=[first.pk]))
    assert Notification.objects.filter(member=member, read_at__isnull=True).count() == 1
    client.post(reverse("members:inbox_read_all"))
    assert not Notification.objects.filter(member=member, read_at__isnull=True).exists()


def test_ticket_admin_reply_and_status(client, member, operator):
    ticket = _ticket(member)
    client.force_login(operator)
    url = reverse("admin:members_ticket_change", args=[ticket.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "status": "waiting_member",
            "priority": "high",
            "assignee": operator.pk,
            "reply": "请提供订单号",
            "internal_note": "",
            "status_note": "",
            "adopt_points": "",
        },
    )
    assert response.status_code == 302, response.content
    ticket.refresh_from_db()
    assert ticket.status == "waiting_member" and ticket.priority == "high" and ticket.assignee == operator
    assert ticket.replies.filter(from_operator=True, is_internal=False).count() == 1
    assert Notification.objects.filter(member=member).count() == 2  # reply + status
    assert client.get(reverse("admin:members_ticket_changelist") + "?sla=overdue").status_code == 200
