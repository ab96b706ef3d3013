"""Re-evaluation writes its side effects in bulk: notices (members.services.member_notify_bulk),
TierChange rows, tier.changed outbox events; TIER_CHANGED is still published per member."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import events
from core.models import OutboxEvent
from members import sms
from members.models import Notification
from members.services import Notice, member_notify_bulk
from tiers.models import MemberTier, TierChange
from tiers.services import tiers_reevaluate

from .factories import grow, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "members.sms.LocMemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def test_notify_bulk_dedupes_and_sends_copies_after_commit(django_capture_on_commit_callbacks, sms_outbox):
    members = [make_member() for _ in range(5)]
    mail.outbox.clear()
    items = [
        Notice(member=m, kind="test.bulk", title="T", body=f"B{i}", data={"i": i}, dedupe_key="k1")
        for i, m in enumerate(members)
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = member_notify_bulk(items=items, channels=("inbox", "email", "sms"), batch_size=2)
    assert created == 5
    assert len(callbacks) == 3  # one per batch of 2
    assert len(mail.outbox) == 5 and len(sms_outbox) == 5
    assert Notification.objects.filter(kind="test.bulk").count() == 5
    note = Notification.objects.get(member=members[3], kind="test.bulk")
    assert (note.body, note.data, note.channels) == ("B3", {"i": 3}, ["inbox", "email", "sms"])

    # A re-run (same members and keys): nothing new, no copies; a new key still goes out,
    # and a key twice in one call counts once.
    mail.outbox.clear()
    sms_outbox.clear()
    again = items + [Notice(member=members[0], kind="test.bulk", title="T2", dedupe_key="k2")] * 2
    with django_capture_on_commit_callbacks(execute=True):
        created = member_notify_bulk(items=again, channels=("inbox", "email"))
    assert created == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "T2"
    assert sms_outbox == []
    assert Notification.objects.filter(kind="test.bulk").count() == 6

    # Without a dedupe key every notice is new.
    assert member_notify_bulk(items=[Notice(member=members[1], kind="test.bulk", title="x")] * 2) == 2


def test_reevaluation_chunk_writes_side_effects_in_bulk(django_capture_on_commit_callbacks, sms_outbox):
    downgraded = [make_member() for _ in range(4)]
    warned = [make_member() for _ in range(4)]
    for m in downgraded + warned:
        grow(m, 25000)  # diamond, due in a year
    due = MemberTier.objects.get(member=downgraded[0]).evaluate_at + timedelta(days=1)
    # The first group is already at the end of its grace: down one tier tonight.
    MemberTier.objects.filter(member__in=downgraded).update(grace_until=due - timedelta(days=1))
    received = []

    def handler(*, member, old_tier, new_tier, reason):
        received.append((member.pk, old_tier.code, new_tier.code))

    events.subscribe(events.TIER_CHANGED, handler)
    mail.outbox.clear()
    try:
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            counts = tiers_reevaluate(now=due)
    finally:
        events.unsubscribe(events.TIER_CHANGED, handler)
    assert counts["downgraded"] == 4 and counts["grace_started"] == 4
    assert sorted(received) == sorted((m.pk, "diamond", "gold") for m in downgraded)
    assert TierChange.objects.filter(source="reevaluation").count() == 4
    assert (
        Notification.objects.filter(kind="tier.changed", member__in=downgraded, data__to="gold").count() == 4
    )
    assert Notification.objects.filter(kind="tier.retention_warning", member__in=warned).count() == 4
    hooks = OutboxEvent.objects.filter(type="tier.changed", data__to_tier="gold")
    assert hooks.count() == 4
    assert {h.data["member_id"] for h in hooks} == {m.member_id for m in downgraded}
    assert {h.data["direction"] for h in hooks} == {"down"}
    # Email for every notice (4 changes + 4 warnings), SMS only for the warnings.
    assert len(mail.outbox) == 8 and len(sms_outbox) == 4
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    # Per chunk: run row, TierChange, notices (changes), outbox, notices (warnings), JobRun...:
    # not one statement per member.
    assert sum("members_notification" in s for s in inserts) == 2
    assert sum("tiers_tierchange" in s for s in inserts) == 1
    assert sum("core_outboxevent" in s for s in inserts) == 1

    # The same night again: nothing new anywhere.
    before = (TierChange.objects.count(), Notification.objects.count(), OutboxEvent.objects.count())
    tiers_reevaluate(now=due)
    assert (TierChange.objects.count(), Notification.objects.count(), OutboxEvent.objects.count()) == before
