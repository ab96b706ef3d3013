"""Recording a tier change: TierChange row, member notice, tier.changed webhook, TIER_CHANGED event."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from core import events
from core.outbox import outbox_emit
from members.services import member_notify

from ..models import Tier, TierChange


def _label(tier: Tier | None) -> str:
    return f"{tier.name} {tier.name_en}" if tier is not None else "-"


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
    up = (to_tier.rank if to_tier else -1) > (from_tier.rank if from_tier else -1)
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
        data={
            "member_id": member.member_id,
            "from_tier": from_tier.code if from_tier else None,
            "to_tier": to_tier.code if to_tier else None,
            "effective_tier": effective_tier.code if effective_tier else (to_tier.code if to_tier else None),
            "direction": "up" if up else "down",
            "source": source,
            "reason": reason,
            "changed_at": at,
        },
    )
    events.publish(events.TIER_CHANGED, member=member, old_tier=from_tier, new_tier=to_tier, reason=reason)
    return change
