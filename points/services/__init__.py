"""Points services: the only code that writes the points domain.

Interface for other apps: points_award (campaign rewards, check-in streaks),
points_rules_apply (a non-order event through the earning rules),
points_promo_multiplier_create (campaign multipliers), points_hold_* (checkout),
reward_redeem (points mall), points_adjustment_* (operators).
"""

from .adjustments import points_adjustment_approve, points_adjustment_reject, points_adjustment_request
from .awards import points_award
from .behaviour import behaviour_events_ingest
from .holds import points_hold_capture, points_hold_create, points_hold_expire, points_hold_release
from .jobs import (
    points_confirm_pending,
    points_expire_holds,
    points_expire_lots,
    points_reconcile,
    points_remind_expiring,
)
from .ledger import points_account_ensure, points_settings_get
from .mall import reward_create, reward_redeem
from .orders import order_complete, order_record, order_refund, order_response_body
from .rules import points_promo_multiplier_create, points_promo_multiplier_deactivate, points_rules_apply

__all__ = [
    "behaviour_events_ingest",
    "order_complete",
    "order_record",
    "order_refund",
    "order_response_body",
    "points_account_ensure",
    "points_adjustment_approve",
    "points_adjustment_reject",
    "points_adjustment_request",
    "points_award",
    "points_confirm_pending",
    "points_expire_holds",
    "points_expire_lots",
    "points_hold_capture",
    "points_hold_create",
    "points_hold_expire",
    "points_hold_release",
    "points_promo_multiplier_create",
    "points_promo_multiplier_deactivate",
    "points_reconcile",
    "points_remind_expiring",
    "points_rules_apply",
    "points_settings_get",
    "reward_create",
    "reward_redeem",
]
