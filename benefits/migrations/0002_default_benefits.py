"""The default benefit catalogue; codes match the tiers' benefit codes."""

from django.db import migrations

BENEFITS = [
    ("member_discount", "price", "🏷️", "会员价", "Member price",
     "按会员等级享受商品折扣价。", "A tier discount on the list price of every item.", 10),
    ("free_shipping", "shipping", "🚚", "包邮", "Free shipping",
     "订单免运费。", "No shipping fee on your orders.", 20),
    ("priority_delivery", "shipping", "⚡", "优先发货", "Priority delivery",
     "订单优先处理和发货。", "Your orders are packed and shipped first.", 30),
    ("exclusive_service", "service", "🎧", "专属客服", "Exclusive customer service",
     "专属客服通道，优先响应。", "A dedicated customer-service line that answers first.", 40),
    ("birthday_gift", "gift", "🎂", "生日礼", "Birthday gift",
     "生日当月赠送礼包或优惠券。", "A gift or coupon in your birthday month.", 50),
    ("member_day", "event", "📅", "会员日", "Member day",
     "每月会员日专享折扣与活动。", "Monthly member-day offers and events.", 60),
    ("member_only_products", "access", "💎", "会员专享商品", "Member-only products",
     "购买会员专享及限量商品。", "Buy member-only and limited products.", 70),
    ("presale_access", "access", "⏰", "预售抢先购", "Early presale access",
     "新品预售提前购买。", "Buy new products in presale before everyone else.", 80),
    ("free_trial", "trial", "🎁", "免费试用", "Free trials",
     "申请试用中心的免费试用商品。", "Apply for free products in the trial centre.", 90),
]


def forward(apps, schema_editor):
    Benefit = apps.get_model("benefits", "Benefit")
    for code, kind, icon, zh, en, dzh, den, order in BENEFITS:
        Benefit.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind, "icon": icon, "name_zh": zh, "name_en": en,
                "description_zh": dzh, "description_en": den, "sort_order": order,
            },
        )


def backward(apps, schema_editor):
    Benefit = apps.get_model("benefits", "Benefit")
    Benefit.objects.filter(code__in=[b[0] for b in BENEFITS]).delete()


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
