"""How benefits plugs into the apps below it: the points-mall coupon fulfiller and the
privacy export section (both registered in BenefitsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from core.errors import ApplicationError

from .models import Coupon, CouponTemplate, TrialApplication
from .services import coupon_issue


def issue_coupon_for_redemption(*, member, reward, redemption) -> dict[str, Any]:
    """points.rewards fulfiller for kind "coupon": issue the template named by the reward's
    `coupon_template_ref` (template id or code). Runs inside the redemption's transaction;
    idempotent per redemption (source key), and anything it raises rolls the redemption back."""
    ref = (getattr(reward, "coupon_template_ref", "") or "").strip()
    template = CouponTemplate.objects.filter(Q(public_id=ref) | Q(code=ref)).first() if ref else None
    if template is None:
        raise ApplicationError(
            "This reward's coupon template does not exist.",
            code="template_not_found",
            errors={"coupon_template_ref": [f"Unknown template {ref!r}."]},
        )
    key = str(getattr(redemption, "redemption_id", None) or redemption.pk)
    quantity = int(getattr(redemption, "quantity", 1) or 1)
    codes = []
    valid_until = None
    for n in range(1, quantity + 1):
        coupon, _created = coupon_issue(
            template=template,
            member=member,
            source=Coupon.Source.POINTS,
            source_ref=f"reward:{reward.code}",
            source_key=f"points:{key}:{n}",
            actor="points mall",
        )
        codes.append(coupon.code)
        valid_until = coupon.valid_until
    return {"coupon_code": codes[0], "coupon_codes": codes, "valid_until": valid_until.isoformat()}


def export_member_data(member) -> dict[str, Any]:
    """Privacy export: the member's coupons and trial applications."""
    coupons = [
        {
            "code": c.code,
            "template": c.template.code,
            "name": c.template.name,
            "status": c.status,
            "valid_from": c.valid_from.isoformat(),
            "valid_until": c.valid_until.isoformat(),
            "issued_at": c.issued_at.isoformat(),
            "issued_by": c.issued_by,
            "order_id": c.order_id,
            "discount_amount": str(c.discount_amount) if c.discount_amount is not None else None,
            "redeemed_at": c.redeemed_at.isoformat() if c.redeemed_at else None,
        }
        for c in Coupon.objects.filter(member=member).select_related("template").order_by("pk")
    ]
    trials = []
    for app in (
        TrialApplication.objects.filter(member=member).select_related("product", "report").order_by("pk")
    ):
        report = getattr(app, "report", None)
        trials.append(
            {
                "trial": app.product.name,
                "status": app.status,
                "reason": app.reason,
                "applied_at": app.created_at.isoformat(),
                "report": {"text": report.text, "rating": report.rating} if report else None,
            }
        )
    return {"coupons": coupons, "trials": trials}
