"""Serializer fields for the API's value formats (API.md Conventions).

class OrderIn(serializers.Serializer):
    amount = MoneyField()                 # "199.00" (JSON string or number) -> Decimal("199.00")
    currency = CurrencyField()            # ISO 4217, default "CNY"
    points = PointsField(min_value=1)     # JSON integer only
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

DEFAULT_CURRENCY = "CNY"

# ISO 4217 active alphabetic codes (funds and precious metals excluded).
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class MoneyField(serializers.DecimalField):
    """An amount of money: Decimal in Python, a string with exactly 2 places in JSON.

    Input accepts "199", "199.5", "199.50" or a JSON number; more than 2 decimal places,
    NaN/Infinity and booleans are refused (no silent rounding). Non-negative unless
    `min_value` is given explicitly (pass `min_value=None` to allow negatives).
    """

    _UNSET = object()

    def __init__(self, *, max_digits: int = 14, min_value=_UNSET, **kwargs) -> None:
        kwargs.setdefault("decimal_places", 2)
        kwargs["coerce_to_string"] = True
        kwargs.setdefault("rounding", ROUND_HALF_UP)
        if min_value is MoneyField._UNSET:
            min_value = Decimal("0.00")
        super().__init__(max_digits=max_digits, min_value=min_value, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or data is None or isinstance(data, list | dict):
            self.fail("invalid")
        value = super().to_internal_value(data)
        return value.quantize(Decimal("0.01"))


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^[A-Z]{3}$",
        "example": DEFAULT_CURRENCY,
        "description": "ISO 4217 currency code.",
    }
)
class CurrencyField(serializers.CharField):
    """ISO 4217 code, upper case; optional with default CNY. `allowed=` narrows the codes."""

    default_error_messages = {
        "invalid_currency": "Not an ISO 4217 currency code.",
        "unsupported_currency": "Currency {code} is not supported here.",
    }

    def __init__(self, *, allowed: list[str] | None = None, **kwargs) -> None:
        if "default" not in kwargs and kwargs.get("required") is not True:
            kwargs["default"] = DEFAULT_CURRENCY
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("min_length", 3)
        self.allowed = frozenset(allowed) if allowed else None
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_currency")
        code = data.strip().upper()
        if not _CURRENCY_RE.match(code) or code not in ISO_4217:
            self.fail("invalid_currency")
        if self.allowed is not None and code not in self.allowed:
            self.fail("unsupported_currency", code=code)
        return code


class PointsField(serializers.IntegerField):
    """Points: a JSON integer only ("10", 10.0 and true are refused)."""

    default_error_messages = {"not_integer": "A whole number of points (JSON integer) is required."}
    LIMIT = 10**12

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", -self.LIMIT)
        kwargs.setdefault("max_value", self.LIMIT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer")
        return super().to_internal_value(data)
