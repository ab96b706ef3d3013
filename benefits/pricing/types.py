"""Plain data the applicator works on, and the reasons a coupon does not apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ZERO = Decimal("0.00")
KIND_ORDER = {"percent_off": 0, "amount_off": 1, "cash_voucher": 2, "free_shipping": 3}
MAX_PER_GROUP = 5  # candidates kept per stack group when searching combinations
MAX_COMBINATIONS = 20000


@dataclass(frozen=True)
class CartLine:
    sku: str
    category: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class CouponOffer:
    """A coupon as the applicator sees it (built from a Coupon row by the selectors)."""

    code: str
    template_id: str
    name: str
    kind: str
    status: str = "available"
    owned: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    threshold: Decimal = ZERO
    amount: Decimal | None = None
    rate: Decimal | None = None
    cap: Decimal | None = None
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    exclude_skus: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    tier_codes: tuple[str, ...] = ()
    exclusive: bool = False
    stack_group: str = ""


@dataclass(frozen=True)
class QuoteContext:
    now: datetime
    tier_code: str | None = None
    discount_rate: Decimal = Decimal("1")
    free_shipping: bool = False
    channel: str = ""
    store_id: str = ""


@dataclass(frozen=True)
class PointsContext:
    available: int = 0
    points_per_yuan: int = 100
    max_order_ratio: Decimal = Decimal("0.5")


class NotApplicable(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


MESSAGES = {
    "not_yours": "This coupon belongs to another member.",
    "coupon_redeemed": "This coupon has already been used.",
    "coupon_revoked": "This coupon was revoked.",
    "coupon_expired": "This coupon has expired.",
    "not_yet_valid": "This coupon is not valid yet.",
    "out_of_scope_channel": "Not valid in this channel.",
    "out_of_scope_store": "Not valid in this store.",
    "out_of_scope_tier": "Not valid for your member tier.",
    "out_of_scope": "No item in the cart is eligible.",
    "below_threshold": "Spend {short} more on eligible items (threshold {threshold}).",
    "shipping_already_free": "Shipping is already free.",
    "not_stackable": "Cannot be combined with {other}.",
    "not_best": "Another combination saves more.",
    "not_found": "No such coupon.",
}


def _not_applicable(code: str, **kwargs: str) -> NotApplicable:
    return NotApplicable(code, MESSAGES[code].format(**kwargs))
