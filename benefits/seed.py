"""Demo coupons and trials: a few templates, tier entitlements, coupons in wallets (some
used, some expired) and an open and a drawn free trial. Everything goes through services."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import CouponTemplate, TierCouponEntitlement, TrialProduct
from .services import (
    coupon_issue_many,
    coupon_redeem,
    coupon_template_create,
    coupons_expire_due,
    tier_coupons_issue,
    trial_apply,
    trial_draw,
    trial_product_create,
)

D = Decimal
TEMPLATES = [
    {
        "code": "welcome_20",
        "name": "新人满99减20",
        "kind": "amount_off",
        "threshold": D("99"),
        "amount": D("20"),
    },
    {"code": "save_50", "name": "满299减50", "kind": "amount_off", "threshold": D("299"), "amount": D("50")},
    {
        "code": "beauty_85",
        "name": "美妆85折券",
        "kind": "percent_off",
        "rate": D("0.850"),
        "cap": D("60"),
        "categories": ["beauty"],
    },
    {"code": "free_ship", "name": "包邮券", "kind": "free_shipping", "threshold": D("39")},
    {"code": "cash_10", "name": "10元现金券", "kind": "cash_voucher", "amount": D("10")},
    {
        "code": "gold_monthly_30",
        "name": "金卡月度满200减30",
        "kind": "amount_off",
        "threshold": D("200"),
        "amount": D("30"),
        "tier_codes": ["gold", "diamond"],
        "per_member_limit": None,
    },
    {
        "code": "double11_100",
        "name": "双11满1000减100",
        "kind": "amount_off",
        "threshold": D("1000"),
        "amount": D("100"),
        "stacking": "exclusive",
        "total_quantity": 500,
    },
]


def _trial_get_or_create(*, sku: str, defaults: dict) -> tuple[TrialProduct, bool]:
    existing = TrialProduct.objects.filter(sku=sku).first()
    if existing is not None:
        return existing, False
    return trial_product_create(sku=sku, **defaults), True


def seed_benefits(*, members: int, stdout, rng: random.Random) -> None:
    User = get_user_model()
    now = timezone.now()
    templates = {}
    for spec in TEMPLATES:
        template = CouponTemplate.objects.filter(code=spec["code"]).first()
        if template is None:
            fields = {"validity": "relative", "valid_days": 30, "per_member_limit": 3, **spec}
            template = coupon_template_create(**fields)
        templates[template.code] = template
    for tier_code, code, qty in (("gold", "gold_monthly_30", 1), ("diamond", "gold_monthly_30", 2)):
        TierCouponEntitlement.objects.get_or_create(
            tier_code=tier_code, template=templates[code], defaults={"quantity": qty}
        )
    pks = list(
        User.objects.filter(is_staff=False, status="active").order_by("pk").values_list("pk", flat=True)
    )
    if not pks:
        return
    sample = rng.sample(pks, k=max(1, len(pks) // 3))
    issued = used = 0
    for code in ("welcome_20", "save_50", "beauty_85", "free_ship", "cash_10"):
        chosen = sorted(rng.sample(sample, k=max(1, len(sample) // 2)))
        for start in range(0, len(chosen), 500):
            chunk = list(User.objects.filter(pk__in=chosen[start : start + 500]).order_by("pk"))
            outcomes = coupon_issue_many(
                template=templates[code],
                requests=[(m, "demo") for m in chunk],
                source="campaign",
                source_ref="demo",
                now=now - timedelta(days=rng.randint(0, 40)),
            )
            for outcome in outcomes:
                if outcome.result != "issued":
                    continue
                issued += 1
                coupon = outcome.coupon
                if rng.random() < 0.3 and coupon.valid_until > now and coupon.valid_from <= now:
                    amount = coupon.template.threshold + D(rng.randint(0, 200))
                    coupon_redeem(code=coupon.code, order_id=f"demo-{coupon.code}", amount=amount, now=now)
                    used += 1
    expired = coupons_expire_due(now=now)
    tier_counts = tier_coupons_issue(now=now)
    trial_open, _ = _trial_get_or_create(
        sku="TRY-TEA-01",
        defaults={
            "name": "明前龙井试用装",
            "description": "50g 明前龙井，申请即有机会免费试用。",
            "quantity": 20,
            "apply_from": now - timedelta(days=3),
            "apply_until": now + timedelta(days=7),
            "report_points": 100,
        },
    )
    trial_done, created = _trial_get_or_create(
        sku="TRY-CREAM-01",
        defaults={
            "name": "保湿面霜体验装",
            "description": "30ml 保湿面霜体验装。",
            "quantity": 10,
            "apply_from": now - timedelta(days=20),
            "apply_until": now - timedelta(days=5),
            "report_points": 200,
        },
    )
    applicants = rng.sample(pks, k=min(len(pks), 40))
    for pk in applicants[:20]:
        if not trial_open.applications.filter(member_id=pk).exists():
            trial_apply(product=trial_open, member=User.objects.get(pk=pk), reason="想试试")
    if created:
        applied_at = now - timedelta(days=10)  # inside its (past) application window
        for pk in applicants[20:]:
            trial_apply(product=trial_done, member=User.objects.get(pk=pk), reason="想试试", now=applied_at)
        trial_draw(product=trial_done, now=now)
    stdout.write(
        f"  benefits: {issued} coupons issued, {used} used, {expired} expired, tier coupons {dict(tier_counts)}"
    )
