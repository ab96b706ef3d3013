"""Recording a tier change: TierChange row, member notice, tier.changed webhook, TIER_CHANGED event."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import events
from core.outbox import outbox_emit, outbox_emit_bulk
from members.services import Notice, member_notify, member_notify_bulk

from ..models import Tier, TierChange


def tier_label(tier: Tier | None) -> str:
    """The tier's name in the active language (zh-hans unless a request chose English)."""
    if tier is None:
        return "-"
    return tier.name if (get_language() or "zh-hans").startswith("zh") or not tier.name_en else tier.name_en


_label = tier_label


def _is_up(from_tier: Tier | None, to_tier: Tier | None) -> bool:
    return (to_tier.rank if to_tier else -1) > (from_tier.rank if from_tier else -1)


def _notice_text(from_tier: Tier | None, to_tier: Tier | None, reason: str, up: bool) -> tuple[str, str]:
    if up:
        title = _("Welcome to %(tier)s") % {"tier": _label(to_tier)}
        body = _("Your member tier is now %(tier)s. Enjoy its benefits.") % {"tier": _label(to_tier)}
    else:
        title = _("Your member tier is now %(tier)s") % {"tier": _label(to_tier)}
        body = _("Your member tier changed from %(old)s to %(new)s: %(reason)s") % {
            "old": _label(from_tier),
            "new": _label(to_tier),
            "reason": reason,
        }
    return title, body


def _webhook_data(member, from_tier, to_tier, effective_tier, up: bool, source: str, reason: str, at) -> dict:
    return {
        "member_id": member.member_id,
        "from_tier": from_tier.code if from_tier else None,
        "to_tier": to_tier.code if to_tier else None,
        "effective_tier": effective_tier.code if effective_tier else (to_tier.code if to_tier else None),
        "direction": "up" if up else "down",
        "source": source,
        "reason": reason,
        "changed_at": at,
    }


def tier_change_record(
    *,
    member,
    from_tier: Tier | None,
    to_tier: Tier | None,
    source: str,
    reason: str,
    effective_tier: Tier | None = None,
    actor: str = "",
    at: datetime | None = None,
) -> TierChange:
    """Append the change and tell everyone, in the caller's transaction (call inside atomic)."""
    at = at or timezone.now()
    change = TierChange.objects.create(
        member_id=member.pk,
        from_tier=from_tier,
        to_tier=to_tier,
        source=source,
        reason=reason[:255],
        actor=actor[:200],
        created_at=at,
    )
    up = _is_up(from_tier, to_tier)
    title, body = _notice_text(from_tier, to_tier, reason, up)
    member_notify(
        member=member,
        kind="tier.changed",
        title=title,
        body=body,
        data={"from": from_tier.code if from_tier else None, "to": to_tier.code if to_tier else None},
        channels=("inbox", "email"),
        dedupe_key=f"tier.changed:{change.pk}",
    )
    outbox_emit(
        type="tier.changed",
        data=_webhook_data(member, from_tier, to_tier, effective_tier, up, source, reason, at),
    )
    events.publish(events.TIER_CHANGED, member=member, old_tier=from_tier, new_tier=to_tier, reason=reason)
    return change


def tier_changes_record_bulk(
    *, changes: list[tuple[object, Tier | None, Tier | None, str]], source: str, at: datetime
) -> list[TierChange]:
    """tier_change_record for many members at once (re-evaluation), in the caller's transaction:
    one INSERT of the TierChange rows, notices through members.services.member_notify_bulk, one
    INSERT of the tier.changed webhook events (core.outbox.outbox_emit_bulk), and TIER_CHANGED
    published per member as before. `changes` holds (member, from_tier, to_tier, reason)."""
    if not changes:
        return []
    rows = TierChange.objects.bulk_create(
        [
            TierChange(
                member_id=member.pk,
                from_tier=from_tier,
                to_tier=to_tier,
                source=source,
                reason=reason[:255],
                actor="",
                created_at=at,
            )
            for member, from_tier, to_tier, reason in changes
        ]
    )
    notices: list[Notice] = []
    hooks: list[dict] = []
    texts: dict[tuple, tuple[str, str]] = {}
    for row, (member, from_tier, to_tier, reason) in zip(rows, changes, strict=True):
        up = _is_up(from_tier, to_tier)
        key = (from_tier.pk if from_tier else None, to_tier.pk if to_tier else None, reason)
        if key not in texts:
            texts[key] = _notice_text(from_tier, to_tier, reason, up)
        title, body = texts[key]
        notices.append(
            Notice(
                member=member,
                kind="tier.changed",
                title=title,
                body=body,
                data={"from": from_tier.code if from_tier else None, "to": to_tier.code if to_tier else None},
                dedupe_key=f"tier.changed:{row.pk}",
            )
        )
        hooks.append(_webhook_data(member, from_tier, to_tier, None, up, source, reason, at))
    member_notify_bulk(items=notices, channels=("inbox", "email"))
    outbox_emit_bulk(type="tier.changed", items=hooks)
    if events.handlers(events.TIER_CHANGED):
        for member, from_tier, to_tier, reason in changes:
            events.publish(
                events.TIER_CHANGED, member=member, old_tier=from_tier, new_tier=to_tier, reason=reason
            )
    return rows
