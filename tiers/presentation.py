"""Display helpers for member pages: benefit labels and the tier comparison table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import Tier

BENEFIT_LABELS = {
    "member_price": _("Member price"),
    "free_shipping": _("Free shipping"),
    "priority_delivery": _("Priority delivery"),
    "exclusive_service": _("Dedicated customer service"),
    "birthday_gift": _("Birthday gift"),
    "member_day": _("Member day offers"),
    "member_only_products": _("Member-only products"),
    "presale_access": _("Early (presale) access"),
    "free_trial": _("Free trials"),
}


def benefit_label(code: str) -> str:
    return str(BENEFIT_LABELS.get(code, code.replace("_", " ")))


def comparison_rows(tiers: list[Tier]) -> list[dict]:
    """One row per benefit code (in first-seen order), a yes/no cell per tier."""
    codes: list[str] = []
    for tier in tiers:
        for code in tier.benefit_codes:
            if code not in codes:
                codes.append(code)
    return [
        {"label": benefit_label(code), "cells": [code in tier.benefit_codes for tier in tiers]}
        for code in codes
    ]
