"""Money is Decimal with explicit rounding; points are integers. No floats near value."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
DEFAULT_CURRENCY = "CNY"


def to_money(value: object) -> Decimal:
    """Parse a money amount exactly; refuse floats and more than 2 decimal places."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError("money must be finite")
    if amount != amount.quantize(CENT):
        raise ValueError("money has at most 2 decimal places")
    return amount.quantize(CENT)


def round_money(amount: Decimal) -> Decimal:
    """Round half up to the cent (the rounding of prices and discounts)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def floor_money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def floor_points(value: Decimal) -> int:
    """Points are whole; fractions are dropped in the member's disfavour-neutral way (down)."""
    return int(value.to_integral_value(rounding=ROUND_DOWN))


def format_money(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):.2f}"
