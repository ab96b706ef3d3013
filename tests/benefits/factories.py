"""Test data for benefits, made through services."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from benefits.models import Coupon
from benefits.services import coupon_issue, coupon_template_create

_seq = itertools.count(1)


def make_member(**extra):
    n = next(_seq)
    User = get_user_model()
    return User.objects.create_user(email=f"member{n}-{timezone.now().timestamp()}@example.com", **extra)


def make_template(**fields):
    n = next(_seq)
    defaults = {
        "code": f"tpl-{n}",
        "name": f"Template {n}",
        "kind": "amount_off",
        "threshold": Decimal("100.00"),
        "amount": Decimal("10.00"),
        "validity": "relative",
        "valid_days": 30,
        "per_member_limit": None,
    }
    defaults.update(fields)
    if defaults["kind"] == "percent_off":
        defaults.setdefault("rate", Decimal("0.850"))
        if "amount" not in fields:
            defaults["amount"] = None
    if defaults["kind"] == "free_shipping" and "amount" not in fields:
        defaults["amount"] = None
    if defaults["kind"] == "cash_voucher" and "threshold" not in fields:
        defaults["threshold"] = Decimal("0")
    if defaults["validity"] == "absolute":
        defaults.pop("valid_days", None)
        defaults.setdefault("valid_until", timezone.now() + timedelta(days=10))
    return coupon_template_create(**defaults)


def issue(template, member, **kwargs) -> Coupon:
    kwargs.setdefault("source", "operator")
    coupon, _ = coupon_issue(template=template, member=member, **kwargs)
    return coupon
