"""Tier engine services: the only code that writes tiers' tables.

Public interface for other apps: growth_record, growth_bulk_record,
growth_record_for_activity, subscription_purchase; for the order hot path
member_tier_context_lock + growth_record_locked; jobs: tiers_reevaluate, subscriptions_expire.
"""

from .bulk import GrowthRow, growth_bulk_record
from .changes import tier_change_record, tier_changes_record_bulk
from .growth import (
    TierContext,
    growth_record,
    growth_record_for_activity,
    growth_record_locked,
    member_tier_context_lock,
)
from .overrides import tier_override_clear, tier_override_set, tier_overrides_expire
from .reevaluation import member_tier_reevaluate, tiers_reevaluate
from .subscriptions import subscription_cancel, subscription_purchase, subscriptions_expire

__all__ = [
    "GrowthRow",
    "TierContext",
    "growth_bulk_record",
    "growth_record",
    "growth_record_for_activity",
    "growth_record_locked",
    "member_tier_context_lock",
    "member_tier_reevaluate",
    "subscription_cancel",
    "subscription_purchase",
    "subscriptions_expire",
    "tier_change_record",
    "tier_changes_record_bulk",
    "tier_override_clear",
    "tier_override_set",
    "tier_overrides_expire",
    "tiers_reevaluate",
]
