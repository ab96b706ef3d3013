"""A Coupon row as the applicator sees it (benefits.pricing.CouponOffer)."""

from __future__ import annotations

from . import pricing
from .models import Coupon, CouponTemplate


def coupon_offer(coupon: Coupon, *, owned: bool = True) -> pricing.CouponOffer:
    t = coupon.template
    return pricing.CouponOffer(
        code=coupon.code,
        template_id=t.public_id,
        name=t.name,
        kind=t.kind,
        status=coupon.status,
        owned=owned,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        threshold=t.threshold,
        amount=t.amount,
        rate=t.rate,
        cap=t.cap,
        categories=tuple(t.categories or ()),
        skus=tuple(t.skus or ()),
        exclude_categories=tuple(t.exclude_categories or ()),
        exclude_skus=tuple(t.exclude_skus or ()),
        channels=tuple(t.channels or ()),
        stores=tuple(t.stores or ()),
        tier_codes=tuple(t.tier_codes or ()),
        exclusive=t.stacking == CouponTemplate.Stacking.EXCLUSIVE,
        stack_group=t.effective_stack_group,
    )
