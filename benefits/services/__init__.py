"""Benefits services: the only code that writes the benefits domain."""

from .coupons import coupon_issue, coupon_issue_many, coupon_template_create
from .expiry import coupons_expire_due, coupons_remind_expiring, coupons_revoke_for_member
from .issuance import (
    coupon_bulk_issue_create,
    coupon_bulk_issue_resume,
    coupon_bulk_issue_run,
    tier_coupons_issue,
)
from .redemption import coupon_redeem, coupon_release, coupon_revoke
from .trials import (
    trial_applications_decide,
    trial_apply,
    trial_draw,
    trial_product_create,
    trial_report_submit,
    trials_draw_due,
)

__all__ = [
    "coupon_bulk_issue_create",
    "coupon_bulk_issue_resume",
    "coupon_bulk_issue_run",
    "coupon_issue",
    "coupon_issue_many",
    "coupon_redeem",
    "coupon_release",
    "coupon_revoke",
    "coupon_template_create",
    "coupons_expire_due",
    "coupons_remind_expiring",
    "coupons_revoke_for_member",
    "tier_coupons_issue",
    "trial_applications_decide",
    "trial_apply",
    "trial_draw",
    "trial_product_create",
    "trial_report_submit",
    "trials_draw_due",
]
