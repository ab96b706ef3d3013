"""The applicator's arithmetic, with plain data (no database)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from benefits.pricing import (
    CartLine,
    CouponOffer,
    PointsContext,
    QuoteContext,
    member_price,
    prorate,
    quote,
    quote_as_dict,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
D = Decimal


def offer(code, kind="amount_off", **kw):
    defaults = {
        "template_id": f"ct_{code}",
        "name": code,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=10),
    }
    if kind == "percent_off":
        defaults["rate"] = D("0.85")
    defaults.update(kw)
    return CouponOffer(code=code, kind=kind, **defaults)


def run(
    lines,
    offers=(),
    *,
    shipping=D("0.00"),
    rate=D("1"),
    tier=None,
    free_shipping=False,
    points=None,
    use=None,
    channel="",
    store="",
):
    ctx = QuoteContext(
        now=NOW,
        tier_code=tier,
        discount_rate=rate,
        free_shipping=free_shipping,
        channel=channel,
        store_id=store,
    )
    return quote(
        lines=lines,
        shipping_fee=shipping,
        offers=list(offers),
        ctx=ctx,
        points=points or PointsContext(available=0),
        points_to_use=use,
    )


def line(sku="A", category="c", qty=1, price="100.00"):
    return CartLine(sku, category, qty, D(price))


def applied_codes(q):
    return sorted(a.offer.code for a in q.applied)


def reasons(q):
    return {n["code"]: n["reason"] for n in q.not_applied}


# --- helpers ---------------------------------------------------------------------------------


def test_prorate_largest_remainder_adds_up_and_is_deterministic():
    shares = prorate(D("10.00"), [D("33.33"), D("33.33"), D("33.34")])
    assert sum(shares) == D("10.00")
    assert shares == [D("3.33"), D("3.33"), D("3.34")]
    shares = prorate(D("0.01"), [D("1.00"), D("1.00"), D("1.00")])
    assert shares == [D("0.01"), D("0.00"), D("0.00")]
    assert prorate(D("0"), [D("5")]) == [D("0.00")]


def test_member_price_rounds_half_up_per_line():
    assert member_price(D("0.10"), D("0.95")) == D("0.10")  # 0.095 -> 0.10
    assert member_price(D("0.30"), D("0.85")) == D("0.26")  # 0.255 -> 0.26
    assert member_price(D("19.90"), D("0.90")) == D("17.91")


# --- thresholds at the edge --------------------------------------------------------------------


@pytest.mark.parametrize(("price", "applies"), [("200.00", True), ("199.99", False)])
def test_amount_off_threshold_edge(price, applies):
    q = run([line(price=price)], [offer("C1", threshold=D("200.00"), amount=D("20.00"))])
    assert (applied_codes(q) == ["C1"]) is applies
    if not applies:
        assert reasons(q)["C1"] == "below_threshold"
        assert "0.01" in q.not_applied[0]["message"]


@pytest.mark.parametrize(("price", "applies"), [("100.00", True), ("99.99", False)])
def test_percent_off_threshold_edge(price, applies):
    q = run([line(price=price)], [offer("P", "percent_off", threshold=D("100.00"), rate=D("0.90"))])
    assert (applied_codes(q) == ["P"]) is applies
    if applies:
        assert q.summary["coupon_discount"] == D("10.00")


@pytest.mark.parametrize(("price", "applies"), [("99.00", True), ("98.99", False)])
def test_free_shipping_threshold_edge(price, applies):
    q = run([line(price=price)], [offer("F", "free_shipping", threshold=D("99.00"))], shipping=D("8.00"))
    assert q.shipping["discount"] == (D("8.00") if applies else D("0.00"))
    assert q.summary["payable"] == D(price) + (D("0.00") if applies else D("8.00"))


def test_threshold_is_checked_after_member_price():
    # list 210.00 at 0.95 = 199.50: below a 200 threshold.
    q = run([line(price="210.00")], [offer("C1", threshold=D("200.00"), amount=D("20.00"))], rate=D("0.95"))
    assert reasons(q)["C1"] == "below_threshold"


def test_cash_voucher_has_no_threshold_and_never_goes_below_zero():
    q = run([line(price="5.00")], [offer("V", "cash_voucher", amount=D("10.00"))])
    assert q.summary["coupon_discount"] == D("5.00")
    assert q.summary["goods_payable"] == D("0.00")


def test_percent_cap():
    q = run([line(price="1000.00")], [offer("P", "percent_off", rate=D("0.80"), cap=D("50.00"))])
    assert q.summary["coupon_discount"] == D("50.00")
    q = run([line(price="100.00")], [offer("P", "percent_off", rate=D("0.80"), cap=D("50.00"))])
    assert q.summary["coupon_discount"] == D("20.00")


def test_percent_rounds_half_up():
    q = run([line(price="0.30")], [offer("P", "percent_off", rate=D("0.85"))])  # 0.045 -> 0.05
    assert q.summary["coupon_discount"] == D("0.05")


# --- stacking --------------------------------------------------------------------------------


def test_best_single_coupon_of_a_group_is_chosen():
    offers = [
        offer("SMALL", threshold=D("100"), amount=D("10.00")),
        offer("BIG", threshold=D("100"), amount=D("30.00")),
        offer("PCT", "percent_off", rate=D("0.85")),  # 30.00 on 200
        offer("PCT2", "percent_off", rate=D("0.80")),  # 40.00 on 200: best of the discount group
    ]
    q = run([line(price="200.00")], offers)
    assert applied_codes(q) == ["PCT2"]
    assert q.summary["coupon_discount"] == D("40.00")
    assert reasons(q) == {"SMALL": "not_stackable", "BIG": "not_stackable", "PCT": "not_stackable"}


def test_amount_off_stacks_with_free_shipping_and_cash_voucher():
    offers = [
        offer("A", threshold=D("100"), amount=D("20.00")),
        offer("F", "free_shipping"),
        offer("V", "cash_voucher", amount=D("5.00")),
    ]
    q = run([line(price="150.00")], offers, shipping=D("10.00"))
    assert applied_codes(q) == ["A", "F", "V"]
    assert q.summary["coupon_discount"] == D("25.00")
    assert q.summary["payable"] == D("125.00")


def test_exclusive_coupon_wins_only_when_it_saves_more():
    stack = [offer("A", threshold=D("100"), amount=D("20.00")), offer("V", "cash_voucher", amount=D("5.00"))]
    excl = offer("X", threshold=D("100"), amount=D("24.00"), exclusive=True)
    q = run([line(price="150.00")], [*stack, excl])
    assert applied_codes(q) == ["A", "V"]  # 25 > 24
    assert reasons(q)["X"] == "not_stackable"
    excl = offer("X", threshold=D("100"), amount=D("26.00"), exclusive=True)
    q = run([line(price="150.00")], [*stack, excl])
    assert applied_codes(q) == ["X"]
    assert reasons(q) == {"A": "not_stackable", "V": "not_stackable"}


def test_percent_applies_before_amount_off_in_a_custom_stack():
    offers = [
        offer("P", "percent_off", rate=D("0.90"), stack_group="pct"),
        offer("A", threshold=D("100"), amount=D("10.00"), stack_group="amt"),
    ]
    q = run([line(price="200.00")], offers)
    # 200 -> 10% off = 20.00 -> 180 - 10 = 170
    assert q.summary["goods_payable"] == D("170.00")


def test_tie_prefers_fewer_then_soonest_expiring():
    soon = offer("SOON", amount=D("10.00"), threshold=D("0"), valid_until=NOW + timedelta(days=1))
    late = offer("LATE", amount=D("10.00"), threshold=D("0"), valid_until=NOW + timedelta(days=9))
    q = run([line(price="50.00")], [late, soon])
    assert applied_codes(q) == ["SOON"]


def test_free_shipping_coupon_not_needed_with_tier_free_shipping():
    q = run([line()], [offer("F", "free_shipping")], shipping=D("10.00"), free_shipping=True)
    assert q.shipping == {
        "fee": D("10.00"),
        "discount": D("10.00"),
        "payable": D("0.00"),
        "reason": "tier_free_shipping",
    }
    assert reasons(q)["F"] == "shipping_already_free"


# --- scope -----------------------------------------------------------------------------------


def test_category_scope_applies_only_to_eligible_lines():
    lines = [line("S1", "shoes", 1, "120.00"), line("B1", "books", 2, "40.00")]
    q = run(lines, [offer("SH", threshold=D("100"), amount=D("30.00"), categories=("shoes",))])
    assert q.lines[0]["coupon_discount"] == D("30.00")
    assert q.lines[1]["coupon_discount"] == D("0.00")


def test_sku_scope_and_exclusions():
    lines = [line("S1", "shoes", 1, "50.00"), line("S2", "shoes", 1, "50.00")]
    q = run(lines, [offer("X", threshold=D("60"), amount=D("10.00"), exclude_skus=("S2",))])
    assert reasons(q)["X"] == "below_threshold"
    q = run(lines, [offer("Y", threshold=D("0"), amount=D("10.00"), skus=("S2",))])
    assert [ln["coupon_discount"] for ln in q.lines] == [D("0.00"), D("10.00")]
    q = run(lines, [offer("Z", amount=D("10.00"), skus=("NOPE",))])
    assert reasons(q)["Z"] == "out_of_scope"


def test_channel_store_and_tier_scope():
    o = offer("C", threshold=D("0"), amount=D("5.00"), channels=("app",), stores=(), tier_codes=())
    assert reasons(run([line()], [o], channel="web"))["C"] == "out_of_scope_channel"
    assert applied_codes(run([line()], [o], channel="app")) == ["C"]
    o = offer("S", threshold=D("0"), amount=D("5.00"), stores=("sh-01",))
    assert reasons(run([line()], [o], store="bj-02"))["S"] == "out_of_scope_store"
    o = offer("T", threshold=D("0"), amount=D("5.00"), tier_codes=("gold", "diamond"))
    assert reasons(run([line()], [o], tier="silver"))["T"] == "out_of_scope_tier"
    assert applied_codes(run([line()], [o], tier="gold")) == ["T"]


def test_not_yours_expired_used_and_not_yet_valid_are_explained():
    offers = [
        offer("MINE", owned=False),
        offer("OLD", valid_until=NOW - timedelta(seconds=1)),
        offer("USED", status="redeemed"),
        offer("LATER", valid_from=NOW + timedelta(hours=1)),
    ]
    assert reasons(run([line()], offers)) == {
        "MINE": "not_yours",
        "OLD": "coupon_expired",
        "USED": "coupon_redeemed",
        "LATER": "not_yet_valid",
    }


# --- mixed cart, rounding and proration ----------------------------------------------------------


def test_mixed_cart_member_price_coupon_and_proration_add_up():
    lines = [
        line("A", "food", 3, "19.90"),  # 59.70 -> x0.95 = 56.715 -> 56.72
        line("B", "toys", 1, "0.10"),  # 0.095 -> 0.10
        line("C", "food", 2, "33.33"),  # 66.66 -> 63.327 -> 63.33
    ]
    q = run(lines, [offer("A10", threshold=D("100"), amount=D("10.00"))], rate=D("0.95"), tier="silver")
    assert [ln["member_total"] for ln in q.lines] == [D("56.72"), D("0.10"), D("63.33")]
    assert q.summary["subtotal"] == D("126.46")
    assert q.summary["member_subtotal"] == D("120.15")
    assert q.summary["member_discount"] == D("6.31")
    shares = [ln["coupon_discount"] for ln in q.lines]
    assert sum(shares) == D("10.00")
    # 10 * 56.72/120.15 = 4.7207, 10*0.10/120.15 = 0.0083, 10*63.33/120.15 = 5.2709
    assert shares == [D("4.72"), D("0.01"), D("5.27")]
    assert sum(ln["total"] for ln in q.lines) == q.summary["goods_payable"] == D("110.15")
    line_a = q.lines[0]
    assert [d["source"] for d in line_a["discounts"]] == ["tier", "coupon"]


def test_points_deduction_is_capped_by_ratio_balance_and_whole_cents():
    pts = PointsContext(available=100000, points_per_yuan=100, max_order_ratio=D("0.5"))
    q = run([line(price="99.99")], points=pts, use=100000)
    # cap: floor(99.99 * 0.5) = 49.99 -> 4999 points
    assert q.points["used"] == 4999 and q.points["deduction"] == D("49.99") and q.points["capped"]
    assert q.summary["payable"] == D("50.00")
    pts = PointsContext(available=1234, points_per_yuan=100, max_order_ratio=D("0.5"))
    q = run([line(price="100.00")], points=pts, use=5000)
    assert q.points["used"] == 1234 and q.points["deduction"] == D("12.34")
    q = run([line(price="100.00")], points=pts, use=None)
    assert q.points["used"] == 0 and q.points["max_usable"] == 1234


def test_points_with_odd_rate_use_whole_cents_only():
    pts = PointsContext(available=1000, points_per_yuan=3, max_order_ratio=D("1"))
    q = run([line(price="100.00")], points=pts, use=10)  # 10 / 3 = 3.333 -> 3.33 -> 9.99 -> 10 points
    assert q.points["deduction"] == D("3.33") and q.points["used"] == 10


def test_points_apply_after_coupons_and_are_prorated():
    pts = PointsContext(available=10**6, points_per_yuan=100, max_order_ratio=D("0.1"))
    lines = [line("A", price="60.00"), line("B", price="40.00")]
    q = run(lines, [offer("A10", threshold=D("0"), amount=D("10.00"))], points=pts, use=10**6)
    # after the coupon 90.00; 10% = 9.00
    assert q.points["deduction"] == D("9.00")
    assert [ln["points_deduction"] for ln in q.lines] == [D("5.40"), D("3.60")]
    assert q.summary["payable"] == D("81.00")


def test_as_dict_is_json_ready():
    import json

    q = run([line()], [offer("A", threshold=D("0"), amount=D("1.00"))], shipping=D("6.00"))
    data = quote_as_dict(q)
    json.dumps(data)
    assert data["summary"]["payable"] == "105.00"
    assert data["coupons"]["applied"][0]["discount"] == "1.00"


def test_best_combination_matches_an_exhaustive_search():
    """Branch and bound never misses: compare with every subset the stacking rules allow."""
    import itertools
    import random

    from benefits.pricing import _group, check_offer, evaluate

    rng = random.Random(7)
    for _ in range(150):
        lines = [
            line(f"S{i}", rng.choice("ab"), rng.randint(1, 3), str(D(rng.randint(1, 20000)) / 100))
            for i in range(rng.randint(1, 4))
        ]
        offers = []
        for i in range(rng.randint(1, 6)):
            kind = rng.choice(["amount_off", "percent_off", "free_shipping", "cash_voucher"])
            offers.append(
                offer(
                    f"C{i}",
                    kind,
                    threshold=D(rng.choice([0, 20, 80])) if kind != "cash_voucher" else D(0),
                    amount=D(rng.randint(1, 60)),
                    rate=D(rng.choice(["0.70", "0.85", "0.95"])),
                    cap=D(rng.choice([10, 30])) if rng.random() < 0.5 else None,
                    categories=(rng.choice("ab"),) if rng.random() < 0.4 else (),
                    exclusive=rng.random() < 0.2,
                    stack_group=rng.choice(["", "", "x"]),
                )
            )
        shipping = D(rng.choice([0, 6]))
        q = run(lines, offers, shipping=shipping, rate=D("0.9"))
        totals = [member_price(ln.unit_price * ln.quantity, D("0.9")) for ln in lines]
        ctx = QuoteContext(now=NOW, discount_rate=D("0.9"))
        eligible = {}
        for o in offers:
            try:
                eligible[o.code] = check_offer(
                    o, lines=lines, member_totals=totals, shipping_fee=shipping, ctx=ctx
                )
            except Exception:  # noqa: BLE001
                pass
        usable = [o for o in offers if o.code in eligible]
        best = D("0")
        for n in range(len(usable) + 1):
            for combo in itertools.combinations(usable, n):
                if len(combo) > 1 and any(o.exclusive for o in combo):
                    continue
                if len({_group(o) for o in combo}) < len(combo):
                    continue
                saving = evaluate(
                    combo, eligible=eligible, member_totals=totals, shipping_fee=shipping
                ).saving
                best = max(best, saving)
        found = sum((a.discount + a.shipping_discount for a in q.applied), D("0"))
        assert found == best, (lines, offers)
