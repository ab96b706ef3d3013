"""One coupon on its own: is it usable on this cart, which lines, and what is it worth
(the strategy per kind)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.money import format_money, round_money

from .types import ZERO, CartLine, CouponOffer, QuoteContext, _not_applicable


def eligible_line_indexes(offer: CouponOffer, lines: Sequence[CartLine]) -> list[int]:
    """Lines in scope: included by category OR SKU (no includes = every line), minus exclusions."""
    indexes = []
    for i, line in enumerate(lines):
        if (offer.categories or offer.skus) and not (
            line.category in offer.categories or line.sku in offer.skus
        ):
            continue
        if line.category in offer.exclude_categories or line.sku in offer.exclude_skus:
            continue
        indexes.append(i)
    return indexes


def check_offer(
    offer: CouponOffer,
    *,
    lines: Sequence[CartLine],
    member_totals: Sequence[Decimal],
    shipping_fee: Decimal,
    ctx: QuoteContext,
) -> list[int]:
    """Eligible line indexes if the coupon can apply on its own, else raise NotApplicable."""
    if not offer.owned:
        raise _not_applicable("not_yours")
    if offer.status == "redeemed":
        raise _not_applicable("coupon_redeemed")
    if offer.status == "revoked":
        raise _not_applicable("coupon_revoked")
    if offer.status == "expired" or (offer.valid_until is not None and ctx.now >= offer.valid_until):
        raise _not_applicable("coupon_expired")
    if offer.valid_from is not None and ctx.now < offer.valid_from:
        raise _not_applicable("not_yet_valid")
    if offer.channels and ctx.channel not in offer.channels:
        raise _not_applicable("out_of_scope_channel")
    if offer.stores and ctx.store_id not in offer.stores:
        raise _not_applicable("out_of_scope_store")
    if offer.tier_codes and ctx.tier_code not in offer.tier_codes:
        raise _not_applicable("out_of_scope_tier")
    indexes = eligible_line_indexes(offer, lines)
    if offer.kind != "free_shipping" or offer.categories or offer.skus:
        if not indexes:
            raise _not_applicable("out_of_scope")
    eligible = sum((member_totals[i] for i in indexes), ZERO)
    if offer.threshold and eligible < offer.threshold:
        raise _not_applicable(
            "below_threshold",
            short=format_money(offer.threshold - eligible),
            threshold=format_money(offer.threshold),
        )
    if offer.kind == "free_shipping" and (ctx.free_shipping or shipping_fee <= 0):
        raise _not_applicable("shipping_already_free")
    return indexes


def coupon_discount(offer: CouponOffer, eligible_amount: Decimal) -> Decimal:
    """Goods discount of a coupon on the current amount of its eligible lines."""
    if eligible_amount <= 0:
        return ZERO
    if offer.kind == "percent_off":
        assert offer.rate is not None
        discount = round_money(eligible_amount * (Decimal("1") - offer.rate))
        if offer.cap is not None:
            discount = min(discount, offer.cap)
    elif offer.kind in ("amount_off", "cash_voucher"):
        discount = offer.amount or ZERO
    else:
        return ZERO
    return min(discount, eligible_amount)
