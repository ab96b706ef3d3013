from decimal import Decimal

from django.db import migrations

TIERS = [
    {
        "code": "regular", "rank": 0, "name": "普通会员", "name_en": "Regular", "is_default": True,
        "badge_color": "#8a8f98", "growth_threshold": 0, "retention_growth": None,
        "points_multiplier": Decimal("1.00"), "discount_rate": Decimal("1.00"),
        "benefit_codes": ["member_day"],
        "benefits_text": "会员日专享活动 Member day offers",
    },
    {
        "code": "silver", "rank": 1, "name": "银卡会员", "name_en": "Silver", "badge_color": "#a7b1bd",
        "growth_threshold": 1000, "retention_growth": 800,
        "points_multiplier": Decimal("1.20"), "discount_rate": Decimal("0.95"),
        "benefit_codes": ["member_day", "birthday_gift", "presale_access"],
        "benefits_text": "会员价95折、生日礼、预售抢先购 95% member price, birthday gift, presale access",
    },
    {
        "code": "gold", "rank": 2, "name": "金卡会员", "name_en": "Gold", "badge_color": "#d4a017",
        "growth_threshold": 5000, "retention_growth": 4000,
        "points_multiplier": Decimal("1.50"), "discount_rate": Decimal("0.90"),
        "benefit_codes": ["member_day", "birthday_gift", "presale_access", "free_shipping", "member_only_products"],
        "benefits_text": "会员价9折、包邮、会员专享商品 90% member price, free shipping, member-only products",
    },
    {
        "code": "diamond", "rank": 3, "name": "钻石会员", "name_en": "Diamond", "badge_color": "#3d6fd8",
        "growth_threshold": 20000, "retention_growth": 16000,
        "points_multiplier": Decimal("2.00"), "discount_rate": Decimal("0.85"),
        "benefit_codes": [
            "member_day", "birthday_gift", "presale_access", "free_shipping", "member_only_products",
            "priority_delivery", "exclusive_service",
        ],
        "benefits_text": "会员价85折、优先发货、专属客服 85% member price, priority delivery, dedicated service",
    },
]

GROWTH_RULES = [
    {"event_type": "check_in", "name": "签到 Check-in", "growth": 5, "daily_cap": 5},
    {"event_type": "review", "name": "评价 Review", "growth": 20, "daily_cap": 60},
    {"event_type": "share", "name": "分享 Share", "growth": 10, "daily_cap": 30},
    {"event_type": "profile_completed", "name": "完善资料 Profile completed", "growth": 100, "daily_cap": None},
]

PLANS = [
    {
        "code": "plus_year", "name": "PLUS 年卡", "name_en": "PLUS yearly", "price": Decimal("88.00"),
        "duration_days": 365, "auto_renew": True, "tier": "gold",
        "benefit_codes": ["free_shipping", "presale_access", "member_only_products"],
        "benefits_text": "年卡期间享金卡等级与包邮 Gold tier and free shipping while active",
    },
    {
        "code": "plus_month", "name": "PLUS 月卡", "name_en": "PLUS monthly", "price": Decimal("10.00"),
        "duration_days": 30, "auto_renew": True, "tier": "silver",
        "benefit_codes": ["free_shipping"],
        "benefits_text": "月卡期间享银卡等级与包邮 Silver tier and free shipping while active",
    },
]


def forward(apps, schema_editor):
    Tier = apps.get_model("tiers", "Tier")
    GrowthRule = apps.get_model("tiers", "GrowthRule")
    GrowthSettings = apps.get_model("tiers", "GrowthSettings")
    PaidPlan = apps.get_model("tiers", "PaidPlan")
    for spec in TIERS:
        Tier.objects.get_or_create(code=spec["code"], defaults={k: v for k, v in spec.items() if k != "code"})
    for spec in GROWTH_RULES:
        GrowthRule.objects.get_or_create(
            event_type=spec["event_type"], defaults={k: v for k, v in spec.items() if k != "event_type"}
        )
    if not GrowthSettings.objects.exists():
        GrowthSettings.objects.create()
    for spec in PLANS:
        fields = {k: v for k, v in spec.items() if k not in ("code", "tier")}
        fields["tier"] = Tier.objects.filter(code=spec["tier"]).first()
        PaidPlan.objects.get_or_create(code=spec["code"], defaults=fields)


def backward(apps, schema_editor):
    # Catalogue rows may be referenced by member data; leave them.
    pass


class Migration(migrations.Migration):
    dependencies = [("tiers", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
