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

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from core.money import CENT, floor_money, format_money, round_money

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


# --- arithmetic helpers ---------------------------------------------------------------------


def cents(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(value) * CENT).quantize(CENT)


def prorate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` over `weights` in whole cents, proportionally, largest remainder first.

    Shares never exceed their weight when total <= sum(weights); ties go to the larger weight,
    then to the earlier line, so the result is deterministic.
    """
    total_c = cents(total)
    weight_c = [cents(w) for w in weights]
    sum_w = sum(weight_c)
    if total_c == 0 or sum_w == 0:
        return [ZERO for _ in weights]
    shares = [total_c * w // sum_w for w in weight_c]
    remainders = [total_c * w % sum_w for w in weight_c]
    leftover = total_c - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], -weight_c[i], i))
    for i in order[:leftover]:
        shares[i] += 1
    return [from_cents(s) for s in shares]


def member_price(list_total: Decimal, rate: Decimal) -> Decimal:
    """Member price of a line: half-up to the cent, per line."""
    return round_money(list_total * rate)


# --- single coupon checks --------------------------------------------------------------------


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


# --- combinations -----------------------------------------------------------------------------


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


# --- the quote --------------------------------------------------------------------------------


def _explain_unused(offer: CouponOffer, chosen: Sequence[CouponOffer]) -> NotApplicable:
    for other in chosen:
        if other.exclusive or offer.exclusive or _group(other) == _group(offer):
            return _not_applicable("not_stackable", other=other.code)
    return _not_applicable("not_best")


def points_deduction(payable_goods: Decimal, requested: int | None, points: PointsContext) -> dict:
    """Points to money: within the order cap, whole cents, not above the balance."""
    ppy = Decimal(points.points_per_yuan)
    cap_money = floor_money(payable_goods * points.max_order_ratio) if payable_goods > 0 else ZERO
    max_by_cap = int((cap_money * ppy).to_integral_value(rounding=ROUND_DOWN))
    max_usable = max(min(points.available, max_by_cap), 0)
    asked = requested or 0
    usable = min(asked, max_usable)
    deduction = floor_money(Decimal(usable) / ppy) if ppy > 0 else ZERO
    used = int((deduction * ppy).to_integral_value(rounding=ROUND_CEILING))
    return {
        "requested": asked,
        "used": used,
        "deduction": deduction,
        "available": points.available,
        "max_usable": max_usable,
        "max_deduction": min(cap_money, floor_money(Decimal(max_usable) / ppy) if ppy > 0 else ZERO),
        "points_per_yuan": points.points_per_yuan,
        "max_order_ratio": points.max_order_ratio,
        "capped": asked > max_usable,
    }


@dataclass
class Quote:
    lines: list[dict] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    not_applied: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    shipping: dict = field(default_factory=dict)
    points: dict = field(default_factory=dict)
    tier: str | None = None
    discount_rate: Decimal = Decimal("1")


def quote(
    *,
    lines: Sequence[CartLine],
    shipping_fee: Decimal,
    offers: Sequence[CouponOffer],
    ctx: QuoteContext,
    points: PointsContext,
    points_to_use: int | None = None,
    missing_codes: Sequence[str] = (),
    blocked: NotApplicable | None = None,
) -> Quote:
    """Price a cart. With `blocked` (e.g. a frozen member) no coupon applies, each with
    that reason, and no points are used."""
    list_totals = [(line.unit_price * line.quantity).quantize(CENT) for line in lines]
    member_totals = [member_price(t, ctx.discount_rate) for t in list_totals]

    eligible: dict[str, list[int]] = {}
    applicable: list[CouponOffer] = []
    not_applied: list[dict] = [
        {"code": code, "reason": "not_found", "message": MESSAGES["not_found"]} for code in missing_codes
    ]
    for offer in offers:
        if blocked is not None:
            not_applied.append({"code": offer.code, "reason": blocked.code, "message": blocked.message})
            continue
        try:
            eligible[offer.code] = check_offer(
                offer, lines=lines, member_totals=member_totals, shipping_fee=shipping_fee, ctx=ctx
            )
        except NotApplicable as exc:
            not_applied.append({"code": offer.code, "reason": exc.code, "message": exc.message})
        else:
            applicable.append(offer)

    standalone = {
        o.code: evaluate(
            [o], eligible=eligible, member_totals=member_totals, shipping_fee=shipping_fee
        ).saving
        for o in applicable
    }
    best: Evaluation | None = None
    for bound, combo in candidate_combinations(applicable, standalone):
        if best is not None and bound < best.saving:
            break  # branch and bound: no remaining combination can save more
        result = evaluate(combo, eligible=eligible, member_totals=member_totals, shipping_fee=shipping_fee)
        # A coupon that adds nothing is dropped (the ranking prefers fewer coupons).
        if best is None or _rank(result) < _rank(best):
            best = result
    assert best is not None
    chosen = [a.offer for a in best.applied]
    for offer in applicable:
        if offer not in chosen:
            exc = _explain_unused(offer, chosen)
            not_applied.append({"code": offer.code, "reason": exc.code, "message": exc.message})

    # Shipping: the tier benefit first, then a coupon.
    shipping_discount = ZERO
    shipping_reason = ""
    if ctx.free_shipping and shipping_fee > 0:
        shipping_discount, shipping_reason = shipping_fee, "tier_free_shipping"
    else:
        for applied in best.applied:
            if applied.shipping_discount:
                shipping_discount, shipping_reason = applied.shipping_discount, f"coupon:{applied.offer.code}"

    remaining = list(best.remaining)
    payable_goods = sum(remaining, ZERO)
    pts = points_deduction(payable_goods, 0 if blocked is not None else points_to_use, points)
    point_shares = prorate(pts["deduction"], remaining)

    out_lines = []
    for i, line in enumerate(lines):
        explanations = []
        member_discount = list_totals[i] - member_totals[i]
        if member_discount:
            explanations.append(
                {
                    "source": "tier",
                    "code": ctx.tier_code or "",
                    "amount": member_discount,
                    "reason": f"member price × {ctx.discount_rate}",
                }
            )
        coupon_total = ZERO
        for applied in best.applied:
            share = applied.shares.get(i)
            if share:
                coupon_total += share
                explanations.append(
                    {
                        "source": "coupon",
                        "code": applied.offer.code,
                        "amount": share,
                        "reason": applied.offer.name,
                    }
                )
        if point_shares[i]:
            explanations.append(
                {"source": "points", "code": "", "amount": point_shares[i], "reason": "points deduction"}
            )
        total = remaining[i] - point_shares[i]
        out_lines.append(
            {
                "sku": line.sku,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "list_total": list_totals[i],
                "member_total": member_totals[i],
                "member_discount": member_discount,
                "coupon_discount": coupon_total,
                "points_deduction": point_shares[i],
                "total": total,
                "discounts": explanations,
            }
        )

    subtotal = sum(list_totals, ZERO)
    member_subtotal = sum(member_totals, ZERO)
    coupon_goods = sum((a.discount for a in best.applied), ZERO)
    goods_payable = payable_goods - pts["deduction"]
    shipping_payable = shipping_fee - shipping_discount
    summary = {
        "subtotal": subtotal,
        "member_discount": subtotal - member_subtotal,
        "member_subtotal": member_subtotal,
        "coupon_discount": coupon_goods,
        "points_deduction": pts["deduction"],
        "goods_payable": goods_payable,
        "shipping_fee": shipping_fee,
        "shipping_discount": shipping_discount,
        "shipping_payable": shipping_payable,
        "total_discount": (subtotal - member_subtotal) + coupon_goods + pts["deduction"] + shipping_discount,
        "payable": goods_payable + shipping_payable,
    }
    assert goods_payable >= 0 and shipping_payable >= 0
    assert sum((ln["total"] for ln in out_lines), ZERO) == goods_payable
    applied_out = [a for a in best.applied if a.discount or a.shipping_discount]
    if shipping_reason == "tier_free_shipping":
        applied_out = [a for a in applied_out if a.offer.kind != "free_shipping"]
    return Quote(
        lines=out_lines,
        applied=applied_out,
        not_applied=not_applied,
        summary=summary,
        shipping={
            "fee": shipping_fee,
            "discount": shipping_discount,
            "payable": shipping_payable,
            "reason": shipping_reason,
        },
        points=pts,
        tier=ctx.tier_code,
        discount_rate=ctx.discount_rate,
    )


def _m(value: Decimal) -> str:
    return format_money(value)


def quote_as_dict(q: Quote, *, currency: str = "CNY") -> dict:
    """The quote as JSON-ready data: money as 2-place strings, rates as decimal strings."""
    return {
        "currency": currency,
        "tier": q.tier,
        "discount_rate": str(q.discount_rate),
        "lines": [
            {
                **{k: line[k] for k in ("sku", "category", "quantity")},
                **{
                    k: _m(line[k])
                    for k in (
                        "unit_price",
                        "list_total",
                        "member_total",
                        "member_discount",
                        "coupon_discount",
                        "points_deduction",
                        "total",
                    )
                },
                "discounts": [{**d, "amount": _m(d["amount"])} for d in line["discounts"]],
            }
            for line in q.lines
        ],
        "coupons": {
            "applied": [
                {
                    "code": a.offer.code,
                    "template": a.offer.template_id,
                    "name": a.offer.name,
                    "kind": a.offer.kind,
                    "discount": _m(a.discount),
                    "shipping_discount": _m(a.shipping_discount),
                }
                for a in q.applied
            ],
            "not_applied": q.not_applied,
        },
        "shipping": {
            "fee": _m(q.shipping["fee"]),
            "discount": _m(q.shipping["discount"]),
            "payable": _m(q.shipping["payable"]),
            "reason": q.shipping["reason"],
        },
        "points": {
            "requested": q.points["requested"],
            "used": q.points["used"],
            "deduction": _m(q.points["deduction"]),
            "available": q.points["available"],
            "max_usable": q.points["max_usable"],
            "max_deduction": _m(q.points["max_deduction"]),
            "points_per_yuan": q.points["points_per_yuan"],
            "max_order_ratio": str(q.points["max_order_ratio"]),
            "capped": q.points["capped"],
        },
        "summary": {k: _m(v) for k, v in q.summary.items()},
    }
