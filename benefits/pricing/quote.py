"""The quote: member price, best coupons, points, shipping, each line explained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from core.money import CENT, floor_money, format_money

from .arithmetic import member_price, prorate
from .combinations import Applied, Evaluation, _group, _rank, candidate_combinations, evaluate
from .rules import check_offer
from .types import (
    MESSAGES,
    ZERO,
    CartLine,
    CouponOffer,
    NotApplicable,
    PointsContext,
    QuoteContext,
    _not_applicable,
)


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
