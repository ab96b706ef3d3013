"""Money arithmetic of the quote: member price per line, proration in whole cents."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.money import CENT, round_money

from .types import ZERO


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
