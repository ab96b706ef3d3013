"""Human descriptions of coupons: 满199减20, 85折 最高减30, 包邮, 10元现金券."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.money import format_money

from .models import CouponTemplate


def describe_template(template: CouponTemplate) -> str:
    """A short human description: 满199减20, 85折 最高减50, 包邮, 现金券10元."""
    if template.kind == CouponTemplate.Kind.AMOUNT_OFF:
        if template.threshold:
            return _("%(amount)s off orders of %(threshold)s or more") % {
                "amount": format_money(template.amount),
                "threshold": format_money(template.threshold),
            }
        return _("%(amount)s off") % {"amount": format_money(template.amount)}
    if template.kind == CouponTemplate.Kind.PERCENT_OFF:
        off = ((Decimal("1") - template.rate) * 100).normalize()
        tenths = (template.rate * 10).normalize()  # 0.90 -> 9 (9折), 0.85 -> 8.5 -> 85折
        zhe = (
            f"{tenths:f}"
            if tenths == tenths.to_integral_value()
            else f"{(template.rate * 100).normalize():f}"
        )
        if (get_language() or "").startswith("zh"):
            text = f"{zhe}折"  # Chinese shoppers read the rate paid: 9折, 85折
        else:
            text = _("%(off)s%% off") % {"off": f"{off:f}"}
        if template.cap is not None:
            text += _(", up to %(cap)s") % {"cap": format_money(template.cap)}
        if template.threshold:
            text += _(" on %(threshold)s or more") % {"threshold": format_money(template.threshold)}
        return text
    if template.kind == CouponTemplate.Kind.FREE_SHIPPING:
        if template.threshold:
            return _("Free shipping on %(threshold)s or more") % {
                "threshold": format_money(template.threshold)
            }
        return _("Free shipping")
    return _("%(amount)s cash voucher") % {"amount": format_money(template.amount)}
