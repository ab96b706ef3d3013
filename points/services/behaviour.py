"""Behaviour events from partners (batches of up to 1,000), and member milestones from core events."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import events
from members.models import ExternalIdentity

from ..models import BehaviourEvent, EarningRule
from .awards import points_award
from .rules import points_rules_apply

MAX_BATCH = 1000


def _resolve_members(*, partner, refs: list[str]) -> dict[str, object]:
    """member ref (member_id or ext:<id>) → member, in two queries for the whole batch."""
    User = get_user_model()
    ids = {r for r in refs if r and not r.startswith("ext:")}
    subjects = {r[4:] for r in refs if r.startswith("ext:") and len(r) > 4}
    found: dict[str, object] = {}
    for member in User.objects.filter(member_id__in=ids, is_staff=False):
        found[member.member_id] = member
    if subjects:
        links = ExternalIdentity.objects.filter(
            partner=partner, subject__in=subjects, member__is_staff=False
        ).select_related("member")
        for link in links:
            found[f"ext:{link.subject}"] = link.member
    return found


def behaviour_events_ingest(*, partner, items: list[dict]) -> list[dict]:
    """Store each event once per (partner, event_id) and apply the earning rules of its type.

    `items` are validated dicts {event_id, member, type, occurred_at, properties}. Returns one
    result per item, in order: {event_id, status: accepted|duplicate|rejected, points, errors?}.
    Each event is its own unit: one bad event does not stop the others.
    """
    from tiers.selectors import growth_rule_for
    from tiers.services import growth_record_for_activity

    members = _resolve_members(partner=partner, refs=[i["member"] for i in items])
    seen_ids = [i["event_id"] for i in items]
    already = set(
        BehaviourEvent.objects.filter(partner=partner, event_id__in=seen_ids).values_list(
            "event_id", flat=True
        )
    )
    rule_types = set(EarningRule.objects.filter(is_active=True).values_list("event_type", flat=True))
    growth_types: dict[str, bool] = {}
    results: list[dict] = []
    plain: list[tuple[int, BehaviourEvent]] = []
    batch_ids: set[str] = set()
    for index, item in enumerate(items):
        event_id = item["event_id"]
        if event_id in already or event_id in batch_ids:
            results.append({"event_id": event_id, "status": "duplicate", "points": 0})
            continue
        member = members.get(item["member"])
        if member is None:
            results.append(
                {
                    "event_id": event_id,
                    "status": "rejected",
                    "points": 0,
                    "errors": {"member": ["Unknown member."]},
                    "code": "member_not_found",
                }
            )
            continue
        batch_ids.add(event_id)
        event = BehaviourEvent(
            partner=partner,
            event_id=event_id,
            member=member,
            type=item["type"],
            occurred_at=item["occurred_at"],
            properties=item.get("properties") or {},
        )
        if item["type"] in growth_types:
            has_growth = growth_types[item["type"]]
        else:
            has_growth = growth_types[item["type"]] = growth_rule_for(event_type=item["type"]) is not None
        if item["type"] not in rule_types and not has_growth:
            plain.append((index, event))
            results.append({"event_id": event_id, "status": "accepted", "points": 0})
            continue
        results.append(_ingest_one(event, member, has_growth, growth_record_for_activity))
    if plain:
        try:
            with transaction.atomic():
                BehaviourEvent.objects.bulk_create([e for _, e in plain], batch_size=1000)
                for _, event in plain:
                    events.publish(events.BEHAVIOUR_EVENT, event=event, member=event.member)
        except IntegrityError:
            # A concurrent batch stored some of them first: one by one, duplicates marked.
            for index, event in plain:
                event.pk = None
                try:
                    with transaction.atomic():
                        event.save(force_insert=True)
                        events.publish(events.BEHAVIOUR_EVENT, event=event, member=event.member)
                except IntegrityError:
                    results[index] = {"event_id": event.event_id, "status": "duplicate", "points": 0}
    return results


def _ingest_one(event: BehaviourEvent, member, has_growth: bool, growth_record_for_activity) -> dict:
    try:
        with transaction.atomic():
            event.save(force_insert=True)
            points = points_rules_apply(
                member=member,
                event_type=event.type,
                source_type="event",
                source_id=str(event.pk),
                at=event.occurred_at,
                reason=f"{event.type} {event.event_id}"[:255],
            )
            if points:
                BehaviourEvent.objects.filter(pk=event.pk).update(points_awarded=points)
            growth = 0
            if has_growth and member.status == member.Status.ACTIVE:
                growth = growth_record_for_activity(
                    member=member,
                    event_type=event.type,
                    event_id=f"{event.partner_id}:{event.event_id}",
                    occurred_at=event.occurred_at,
                )
            events.publish(events.BEHAVIOUR_EVENT, event=event, member=member)
    except IntegrityError:
        return {"event_id": event.event_id, "status": "duplicate", "points": 0}
    result = {"event_id": event.event_id, "status": "accepted", "points": points}
    if growth:
        result["growth_value"] = growth
    return result


# --- member milestones published by lower apps -------------------------------------------


def _milestone(member, event_type: str, at: datetime | None = None) -> int:
    return points_rules_apply(
        member=member,
        event_type=event_type,
        source_type="member_event",
        source_id=f"{event_type}:{member.pk}",
        at=at or timezone.now(),
        reason=event_type.replace("_", " "),
    )


def on_member_registered(*, member, **_kwargs) -> int:
    return _milestone(member, "registration")


def on_member_profile_completed(*, member, **_kwargs) -> int:
    return _milestone(member, "profile_completed")


def on_feedback_adopted(*, member, ticket=None, points: int | None = None, **_kwargs) -> int:
    """An adopted suggestion: the points the operator chose, else the feedback_adopted rules."""
    ticket_ref = str(getattr(ticket, "pk", None) or getattr(ticket, "ticket_id", "") or ticket)
    if member.status != member.Status.ACTIVE:
        return 0
    if points is not None:
        if points <= 0:
            return 0  # adopted without points: the operator's choice
        entry = points_award(
            member=member,
            points=int(points),
            source_type="feedback",
            source_id=ticket_ref,
            reason="suggestion adopted",
        )
        return int(entry.amount)
    return points_rules_apply(
        member=member,
        event_type="feedback_adopted",
        source_type="feedback",
        source_id=ticket_ref,
        reason="suggestion adopted",
    )
