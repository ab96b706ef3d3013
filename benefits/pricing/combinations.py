"""Stacking rules and the best-combination search (branch and bound)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .arithmetic import prorate
from .rules import coupon_discount
from .types import KIND_ORDER, MAX_COMBINATIONS, MAX_PER_GROUP, ZERO, CouponOffer


@dataclass
class Applied:
    offer: CouponOffer
    discount: Decimal
    shipping_discount: Decimal
    shares: dict[int, Decimal]


@dataclass
class Evaluation:
    applied: list[Applied]
    remaining: list[Decimal]
    shipping_remaining: Decimal

    @property
    def saving(self) -> Decimal:
        return sum((a.discount + a.shipping_discount for a in self.applied), ZERO)


def evaluate(
    combo: Sequence[CouponOffer],
    *,
    eligible: dict[str, list[int]],
    member_totals: Sequence[Decimal],
    shipping_fee: Decimal,
) -> Evaluation:
    remaining = list(member_totals)
    shipping = shipping_fee
    applied: list[Applied] = []
    for offer in sorted(combo, key=lambda o: (KIND_ORDER[o.kind], o.code)):
        if offer.kind == "free_shipping":
            applied.append(Applied(offer, ZERO, shipping, {}))
            shipping = ZERO
            continue
        idx = eligible[offer.code]
        base = sum((remaining[i] for i in idx), ZERO)
        discount = coupon_discount(offer, base)
        split = prorate(discount, [remaining[i] for i in idx])
        shares = {}
        for i, share in zip(idx, split, strict=True):
            remaining[i] -= share
            if share:
                shares[i] = share
        applied.append(Applied(offer, discount, ZERO, shares))
    return Evaluation(applied, remaining, shipping)


def _group(offer: CouponOffer) -> str:
    if offer.stack_group:
        return offer.stack_group
    return {"amount_off": "discount", "percent_off": "discount", "free_shipping": "shipping"}.get(
        offer.kind, "cash"
    )


def candidate_combinations(
    applicable: Sequence[CouponOffer], standalone: dict[str, Decimal]
) -> list[tuple[Decimal, tuple]]:
    """Every combination the stacking rules allow, with an upper bound of its saving (the
    sum of its coupons' stand-alone savings: applied after others a coupon never saves
    more than alone), best bound first. Per stack group the MAX_PER_GROUP best coupons are
    kept; coupons that save nothing alone are left out."""
    combos: list[tuple[Decimal, tuple]] = [(ZERO, ())]
    groups: dict[str, list[CouponOffer]] = {}
    for offer in applicable:
        if standalone[offer.code] <= 0:
            continue
        if offer.exclusive:
            combos.append((standalone[offer.code], (offer,)))
        else:
            groups.setdefault(_group(offer), []).append(offer)
    choices = []
    for members in groups.values():
        members.sort(key=lambda o: (-standalone[o.code], _expiry_key(o), o.code))
        choices.append([None, *members[:MAX_PER_GROUP]])
    for count, combo in enumerate(itertools.product(*choices)):
        if count >= MAX_COMBINATIONS:
            break
        picked = tuple(o for o in combo if o is not None)
        if picked:
            combos.append((sum((standalone[o.code] for o in picked), ZERO), picked))
    combos.sort(key=lambda item: -item[0])
    return combos


def _expiry_key(offer: CouponOffer) -> float:
    return offer.valid_until.timestamp() if offer.valid_until else float("inf")


def _rank(evaluation: Evaluation) -> tuple:
    """Biggest saving, then fewer coupons, then the soonest-expiring coupons, then codes."""
    offers = [a.offer for a in evaluation.applied]
    return (
        -evaluation.saving,
        len(offers),
        sorted(_expiry_key(o) for o in offers),
        sorted(o.code for o in offers),
    )
