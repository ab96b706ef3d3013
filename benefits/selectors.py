"""Reads of the benefits domain (select_related done; no writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils import timezone

from core.errors import ApplicationError, NotFound

from . import pricing, upstream
from .models import Benefit, Coupon, CouponTemplate, TrialApplication, TrialProduct
from .offers import coupon_offer

WALLET_STATUSES = ("available", "redeemed", "expired", "revoked")


# --- templates -------------------------------------------------------------------------------


def coupon_templates_issuable(*, partner, now: datetime | None = None) -> QuerySet[CouponTemplate]:
    """Active templates this partner may issue by API."""
    now = now or timezone.now()
    return (
        CouponTemplate.objects.filter(is_active=True, api_issuable=True)
        .filter(Q(partner__isnull=True) | Q(partner=partner))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("-id")
    )


def coupon_template_for_partner(*, partner, ref: str) -> CouponTemplate:
    """A template the partner may issue, by its id (`ct_...`) or code."""
    ref = (ref or "").strip()
    template = (
        coupon_templates_issuable(partner=partner).filter(Q(public_id=ref) | Q(code=ref)).first()
        if ref
        else None
    )
    if template is None:
        raise ApplicationError(
            "No coupon template you may issue has this id.",
            code="template_not_found",
            errors={"template": ["Unknown or not issuable template."]},
        )
    return template


# --- coupons ---------------------------------------------------------------------------------


def _with_effective_status(qs: QuerySet[Coupon], now: datetime) -> QuerySet[Coupon]:
    """An available coupon past its end counts as expired even before the job marks it."""
    return qs.annotate(
        effective_status=Case(
            When(status=Coupon.Status.AVAILABLE, valid_until__lte=now, then=Value(Coupon.Status.EXPIRED)),
            default="status",
            output_field=CharField(),
        )
    )


def member_coupons(*, member, status: str | None = None, now: datetime | None = None) -> QuerySet[Coupon]:
    """The member's wallet, newest first; `status` filters by the effective status."""
    now = now or timezone.now()
    qs = Coupon.objects.filter(member=member).select_related("template")
    if status:
        if status not in WALLET_STATUSES:
            raise ApplicationError(
                "Unknown coupon status.", errors={"status": [f"One of: {', '.join(WALLET_STATUSES)}."]}
            )
        if status == Coupon.Status.AVAILABLE:
            qs = qs.filter(status=Coupon.Status.AVAILABLE, valid_until__gt=now)
        elif status == Coupon.Status.EXPIRED:
            qs = qs.filter(
                Q(status=Coupon.Status.EXPIRED) | Q(status=Coupon.Status.AVAILABLE, valid_until__lte=now)
            )
        else:
            qs = qs.filter(status=status)
    return _with_effective_status(qs, now).order_by("-issued_at", "-id")


def member_coupon_counts(*, member, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    qs = Coupon.objects.filter(member=member)
    return {
        "available": qs.filter(status=Coupon.Status.AVAILABLE, valid_until__gt=now).count(),
        "expiring": qs.filter(
            status=Coupon.Status.AVAILABLE, valid_until__gt=now, valid_until__lte=now + timedelta(days=3)
        ).count(),
    }


def coupon_get(*, code: str) -> Coupon:
    coupon = (
        Coupon.objects.select_related("template", "member").filter(code=(code or "").strip().upper()).first()
    )
    if coupon is None:
        raise NotFound("No such coupon.", code="coupon_not_found")
    return coupon


def coupon_offers_for_member(
    *, member, codes: Sequence[str] | None = None, now: datetime | None = None
) -> tuple[list[pricing.CouponOffer], list[str]]:
    """Offers for the quote: the member's usable coupons, or exactly the given codes
    (those of another member are included as not owned, so the quote can say why).
    Returns (offers, codes that do not exist)."""
    now = now or timezone.now()
    if codes is None:
        rows = list(
            Coupon.objects.select_related("template")
            .filter(member=member, status=Coupon.Status.AVAILABLE, valid_until__gt=now)
            .order_by("valid_until", "pk")
        )
        return [coupon_offer(c) for c in rows], []
    wanted = list(dict.fromkeys(c.strip().upper() for c in codes if c and c.strip()))
    rows = {c.code: c for c in Coupon.objects.select_related("template").filter(code__in=wanted)}
    offers = [coupon_offer(rows[c], owned=rows[c].member_id == member.pk) for c in wanted if c in rows]
    return offers, [c for c in wanted if c not in rows]


# --- entitlements and the catalogue -----------------------------------------------------------


def benefit_catalogue() -> dict[str, Benefit]:
    return {b.code: b for b in Benefit.objects.filter(is_active=True)}


def member_entitlements(*, member) -> dict:
    """{tier, discount_rate, free_shipping, benefits:[{code, name, description, icon, source}]}"""
    info = upstream.member_tier(member)
    catalogue = benefit_catalogue()
    benefits = []
    sources = dict(info.benefit_sources)
    if info.discount_rate < Decimal("1") and "member_discount" not in sources:
        sources = {"member_discount": "tier", **sources}
    for code, source in sources.items():
        benefit = catalogue.get(code)
        benefits.append(
            {
                "code": code,
                "name": benefit.name if benefit else code,
                "description": benefit.description if benefit else "",
                "icon": benefit.icon if benefit else "",
                "source": source,
            }
        )
    order = {code: b.sort_order for code, b in catalogue.items()}
    benefits.sort(key=lambda b: (order.get(b["code"], 999), b["code"]))
    return {
        "tier": info.code,
        "tier_name": info.name,
        "tier_name_en": info.name_en,
        "discount_rate": info.discount_rate,
        "free_shipping": info.free_shipping,
        "benefits": benefits,
    }


def tier_comparison() -> dict:
    """Every active tier with its rate and benefit codes, and the catalogue rows to show."""
    tiers = upstream.tier_catalogue()
    catalogue = benefit_catalogue()
    rows = []
    for benefit in catalogue.values():
        cells = []
        for tier in tiers:
            if benefit.code == "member_discount":
                has = tier.discount_rate < Decimal("1")
            else:
                has = benefit.code in (tier.benefit_codes or [])
            cells.append(has)
        if any(cells):
            rows.append({"benefit": benefit, "cells": cells})
    return {"tiers": tiers, "rows": rows}


# --- trials ----------------------------------------------------------------------------------


def trials_open(*, now: datetime | None = None) -> QuerySet[TrialProduct]:
    now = now or timezone.now()
    return TrialProduct.objects.filter(is_active=True, apply_from__lte=now, apply_until__gt=now).order_by(
        "apply_until", "pk"
    )


def trial_applications_of(*, member) -> QuerySet[TrialApplication]:
    return (
        TrialApplication.objects.filter(member=member)
        .select_related("product", "report")
        .order_by("-created_at", "-id")
    )


def trial_application_of_member(*, member, pk: int) -> TrialApplication:
    """access_*: a member may only reach their own applications."""
    app = TrialApplication.objects.select_related("product").filter(pk=pk, member=member).first()
    if app is None:
        raise NotFound("No such application.")
    return app


# --- checkout quote --------------------------------------------------------------------------


def checkout_quote(
    *,
    member,
    lines: Sequence[pricing.CartLine],
    shipping_fee: Decimal,
    coupon_codes: Sequence[str] | None = None,
    points_to_use: int | None = None,
    channel: str = "",
    store_id: str = "",
    now: datetime | None = None,
) -> pricing.Quote:
    """The best price for this member and cart: member price, the best coupon combination
    (the member's wallet, or only `coupon_codes`), points within the cap, shipping."""
    now = now or timezone.now()
    info = upstream.member_tier(member)
    offers, missing = coupon_offers_for_member(member=member, codes=coupon_codes, now=now)
    per_yuan, ratio = upstream.points_settings()
    active = member.status == member.Status.ACTIVE
    available = upstream.points_available(member) if active else 0
    blocked = (
        None if active else pricing.NotApplicable(f"member_{member.status}", "This member cannot spend now.")
    )
    ctx = pricing.QuoteContext(
        now=now,
        tier_code=info.code,
        discount_rate=info.discount_rate,
        free_shipping=info.free_shipping,
        channel=channel,
        store_id=store_id,
    )
    return pricing.quote(
        lines=lines,
        shipping_fee=shipping_fee,
        offers=offers,
        ctx=ctx,
        points=pricing.PointsContext(available=available, points_per_yuan=per_yuan, max_order_ratio=ratio),
        points_to_use=points_to_use,
        missing_codes=missing,
        blocked=blocked,
    )


# --- performance (for dashboards) -------------------------------------------------------------


def coupon_template_stats(*, since: datetime | None = None) -> list[dict]:
    """Per template: issued, redeemed, expired, revoked, total discount given and redemption
    rate; one aggregate query (coupons issued since `since` if given)."""
    from django.db.models import Count, Sum

    qs = Coupon.objects.all()
    if since is not None:
        qs = qs.filter(issued_at__gte=since)
    rows = (
        qs.values("template_id", "template__code", "template__name", "template__kind")
        .annotate(
            issued=Count("id"),
            redeemed=Count("id", filter=Q(status=Coupon.Status.REDEEMED)),
            expired=Count("id", filter=Q(status=Coupon.Status.EXPIRED)),
            revoked=Count("id", filter=Q(status=Coupon.Status.REVOKED)),
            discount=Sum("discount_amount", filter=Q(status=Coupon.Status.REDEEMED)),
        )
        .order_by("template_id")
    )
    out = []
    for row in rows:
        out.append(
            {
                "template": row["template__code"],
                "name": row["template__name"],
                "kind": row["template__kind"],
                "issued": row["issued"],
                "redeemed": row["redeemed"],
                "expired": row["expired"],
                "revoked": row["revoked"],
                "discount": row["discount"] or Decimal("0.00"),
                "redemption_rate": (Decimal(row["redeemed"]) / row["issued"]).quantize(Decimal("0.0001"))
                if row["issued"]
                else Decimal("0"),
            }
        )
    return out
