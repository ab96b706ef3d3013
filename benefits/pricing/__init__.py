"""The checkout applicator: member price, the best coupon combination, points, shipping.

Pure functions over plain data (no database), so every rule is testable in isolation and
the quote API, redemption and the member centre share one arithmetic. All money is Decimal
with 2 places; prorating works in integer cents.

Order of application (documented in docs/benefits.md):
1. Member price per line: round_half_up(unit_price × quantity × tier rate) to the cent.
2. Coupons. Each coupon is checked on its own (ownership, status, validity, channel, store,
   tier, eligible lines, threshold on the eligible subtotal AFTER member price). Among the
   applicable ones the combination with the largest saving is chosen under the stacking
   rules: an exclusive coupon is used alone; stackable coupons combine with at most one
   coupon per stack group (default groups: amount_off + percent_off share "discount",
   free_shipping is "shipping", cash_voucher is "cash"). Inside a combination coupons apply
   in the order percent_off → amount_off → cash_voucher → free_shipping, each to the
   current amount of its eligible lines, never more than that amount; the discount is
   prorated over those lines by largest remainder so the cents add up.
3. Points: at most max_order_ratio of the goods still payable, converted at points_per_yuan,
   whole cents only, never more than the balance or the points asked for.
4. Shipping separately: free with the tier's free_shipping benefit or a free-shipping coupon.
"""

from .arithmetic import cents, from_cents, member_price, prorate
from .combinations import Applied, Evaluation, _group, candidate_combinations, evaluate
from .quote import Quote, points_deduction, quote, quote_as_dict
from .rules import check_offer, coupon_discount, eligible_line_indexes
from .types import (
    MESSAGES,
    ZERO,
    CartLine,
    CouponOffer,
    NotApplicable,
    PointsContext,
    QuoteContext,
)

__all__ = [
    "MESSAGES",
    "ZERO",
    "Applied",
    "CartLine",
    "CouponOffer",
    "Evaluation",
    "NotApplicable",
    "PointsContext",
    "Quote",
    "QuoteContext",
    "_group",
    "candidate_combinations",
    "cents",
    "check_offer",
    "coupon_discount",
    "eligible_line_indexes",
    "evaluate",
    "from_cents",
    "member_price",
    "points_deduction",
    "prorate",
    "quote",
    "quote_as_dict",
]
