"""Row locks of the benefits domain, in one place (pk order, `of=("self",)`)."""

from __future__ import annotations

from collections.abc import Iterable

from .models import Coupon, CouponTemplate, TrialProduct


def coupon_template_lock(*, pk: int) -> CouponTemplate:
    """Lock a template: its stock and per-member counts change only under this lock."""
    return CouponTemplate.objects.select_for_update(of=("self",)).get(pk=pk)


def coupon_templates_lock(*, pks: Iterable[int]) -> dict[int, CouponTemplate]:
    rows = CouponTemplate.objects.select_for_update(of=("self",)).filter(pk__in=set(pks)).order_by("pk")
    return {t.pk: t for t in rows}


def coupon_lock_by_code(*, code: str) -> Coupon | None:
    return (
        Coupon.objects.select_for_update(of=("self",))
        .select_related("template", "member")
        .filter(code=code)
        .first()
    )


def trial_product_lock(*, pk: int) -> TrialProduct:
    return TrialProduct.objects.select_for_update(of=("self",)).get(pk=pk)
