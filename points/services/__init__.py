"""Points services: the only code that writes the points domain."""

from .adjustments import points_adjustment_approve, points_adjustment_reject, points_adjustment_request
from .awards import points_award
from .holds import points_hold_capture, points_hold_create, points_hold_expire, points_hold_release
from .ledger import points_account_ensure, points_settings_get
from .mall import reward_create, reward_redeem

__all__ = [
    "points_account_ensure",
    "points_adjustment_approve",
    "points_adjustment_reject",
    "points_adjustment_request",
    "points_award",
    "points_hold_capture",
    "points_hold_create",
    "points_hold_expire",
    "points_hold_release",
    "points_settings_get",
    "reward_create",
    "reward_redeem",
]
