"""The tiers section of a member's privacy export (download my data)."""

from __future__ import annotations

from typing import Any

from .selectors import growth_entries_of, member_tier_state, subscriptions_of, tier_changes_of, tier_effective


def export_section(member) -> dict[str, Any]:
    state = member_tier_state(member=member)
    effective = tier_effective(member=member)
    return {
        "effective_tier": effective.code if effective else None,
        "earned_tier": state.tier.code if state else None,
        "tier_since": state.tier_since.isoformat() if state else None,
        "growth_total": state.growth_total if state else 0,
        "evaluate_at": state.evaluate_at.isoformat() if state and state.evaluate_at else None,
        "grace_until": state.grace_until.isoformat() if state and state.grace_until else None,
        "growth_entries": [
            {
                "growth": e.growth,
                "spend": f"{e.spend:.2f}",
                "orders": e.orders,
                "source_type": e.source_type,
                "source_id": e.source_id,
                "occurred_at": e.occurred_at.isoformat(),
                "reason": e.reason,
            }
            for e in growth_entries_of(member=member).iterator(chunk_size=2000)
        ],
        "tier_changes": [
            {
                "from": c.from_tier.code if c.from_tier else None,
                "to": c.to_tier.code if c.to_tier else None,
                "source": c.source,
                "reason": c.reason,
                "at": c.created_at.isoformat(),
            }
            for c in tier_changes_of(member=member)
        ],
        "subscriptions": [
            {
                "plan": s.plan.code,
                "payment_reference": s.payment_reference,
                "price": f"{s.price:.2f}",
                "starts_at": s.starts_at.isoformat(),
                "ends_at": s.ends_at.isoformat(),
                "status": s.status,
                "auto_renew": s.auto_renew,
            }
            for s in subscriptions_of(member=member)
        ],
    }
