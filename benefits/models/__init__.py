"""Benefits: the benefit catalogue, coupon templates and issued coupons, tier coupon
entitlements, bulk issues, and the free-trial centre (试用中心).

Design (after django-oscar's offer/voucher, kept small): a CouponTemplate is the
condition (threshold, scope) and the benefit (kind + amount/rate/cap) in one row; issued
Coupons are the vouchers with their own validity; `benefits.pricing` maps each kind to a
strategy and applies the best combination to a cart; the template's stock and per-member
limit are the usage limits, enforced under a row lock on the template.
"""

from .catalogue import Benefit
from .coupons import (
    Coupon,
    CouponBulkIssue,
    CouponEvent,
    CouponTemplate,
    TierCouponEntitlement,
    new_coupon_code,
    new_template_id,
)
from .trials import TrialApplication, TrialProduct, TrialReport

__all__ = [
    "Benefit",
    "Coupon",
    "CouponBulkIssue",
    "CouponEvent",
    "CouponTemplate",
    "TierCouponEntitlement",
    "TrialApplication",
    "TrialProduct",
    "TrialReport",
    "new_coupon_code",
    "new_template_id",
]
