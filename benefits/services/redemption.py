"""Using a coupon on an order, giving it back when the order is cancelled, revoking it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, ErrorCode, NotFound
from core.services import audit_log_record
from members.services import member_assert_can_transact

from .. import pricing
from ..lock_objects import coupon_lock_by_code
from ..models import Coupon, CouponEvent, CouponTemplate
from ..offers import coupon_offer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Redemption:
    coupon: Coupon
    discount: Decimal
    free_shipping: bool
    replayed: bool


def _get_locked(code: str) -> Coupon:
    coupon = coupon_lock_by_code(code=(code or "").strip().upper())
    if coupon is None:
        raise NotFound("No such coupon.", code=ErrorCode.COUPON_NOT_FOUND)
    return coupon


def _redemption(coupon: Coupon, replayed: bool) -> Redemption:
    return Redemption(
        coupon=coupon,
        discount=coupon.discount_amount or Decimal("0.00"),
        free_shipping=coupon.template.kind == CouponTemplate.Kind.FREE_SHIPPING,
        replayed=replayed,
    )


def coupon_redeem(
    *,
    code: str,
    order_id: str,
    amount: Decimal,
    partner=None,
    member=None,
    items: Sequence[pricing.CartLine] | None = None,
    channel: str = "",
    store_id: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> Redemption:
    """Use a coupon on an order of `amount` (the goods amount it applies to).

    Idempotent per order: the same order again returns the first result; another order is
    409 coupon_already_redeemed. With `items`, scope and threshold are checked on the
    eligible items (without them `amount` is taken as the eligible amount); a coupon limited
    to channels or stores needs `channel` / `store_id`."""
    now = now or timezone.now()
    order_id = (order_id or "").strip()
    if not order_id:
        raise ApplicationError("An order id is required.", errors={"order_id": ["This field is required."]})
    if amount is None or amount < 0:
        raise ApplicationError("The amount must not be negative.", errors={"amount": ["Must be 0 or more."]})
    with transaction.atomic():
        coupon = _get_locked(code)
        if member is not None and coupon.member_id != member.pk:
            raise Conflict("This coupon belongs to another member.", code=ErrorCode.COUPON_NOT_APPLICABLE)
        partner_pk = getattr(partner, "pk", None)
        if coupon.status == Coupon.Status.REDEEMED:
            if coupon.order_id == order_id and coupon.order_partner_id == partner_pk:
                return _redemption(coupon, replayed=True)
            raise Conflict(
                "This coupon was already used on another order.", code=ErrorCode.COUPON_ALREADY_REDEEMED
            )
        member_assert_can_transact(coupon.member)
        if coupon.status == Coupon.Status.REVOKED:
            raise Conflict("This coupon was revoked.", code=ErrorCode.COUPON_NOT_APPLICABLE)
        if coupon.status == Coupon.Status.EXPIRED or now >= coupon.valid_until:
            raise Conflict("This coupon has expired.", code=ErrorCode.COUPON_EXPIRED)
        offer = coupon_offer(coupon)
        missing = {}
        if offer.channels and not channel:
            missing["channel"] = ["This coupon is limited to some channels: say which one the order is from."]
        if offer.stores and not store_id:
            missing["store_id"] = ["This coupon is limited to some stores: say which one the order is from."]
        if missing:
            raise ApplicationError("The coupon's scope needs more about the order.", errors=missing)
        lines = list(items) if items else [pricing.CartLine("", "", 1, amount)]
        if not items:  # without items, `amount` is taken as the eligible amount
            offer = _without_line_scope(offer)
        tier_code = None
        if offer.tier_codes:
            from ..upstream import member_tier_code

            tier_code = member_tier_code(coupon.member)
        ctx = pricing.QuoteContext(now=now, tier_code=tier_code, channel=channel, store_id=store_id)
        member_totals = [(ln.unit_price * ln.quantity) for ln in lines]
        try:
            idx = pricing.check_offer(
                offer, lines=lines, member_totals=member_totals, shipping_fee=Decimal("1"), ctx=ctx
            )
        except pricing.NotApplicable as exc:
            raise Conflict(exc.message, code=ErrorCode.COUPON_NOT_APPLICABLE, extra={"reason": exc.code})
        eligible = sum((member_totals[i] for i in idx), Decimal("0.00")) if items else amount
        discount = min(pricing.coupon_discount(offer, eligible), amount)
        Coupon.objects.filter(pk=coupon.pk).update(
            status=Coupon.Status.REDEEMED,
            order_id=order_id,
            order_partner=partner,
            order_amount=amount,
            discount_amount=discount,
            redeemed_at=now,
            status_changed_at=now,
        )
        CouponEvent.objects.create(
            coupon=coupon,
            kind=CouponEvent.Kind.REDEEMED,
            order_id=order_id,
            amount=discount,
            actor=actor[:200],
            created_at=now,
        )
        coupon.refresh_from_db()
    return _redemption(coupon, replayed=False)


def _replace(offer: pricing.CouponOffer, **changes) -> pricing.CouponOffer:
    from dataclasses import replace

    return replace(offer, **changes)


def _without_line_scope(offer: pricing.CouponOffer) -> pricing.CouponOffer:
    return _replace(offer, categories=(), skus=(), exclude_categories=(), exclude_skus=())


def coupon_release(
    *, code: str, order_id: str, partner=None, actor: str = "", now: datetime | None = None
) -> tuple[Coupon, bool]:
    """Give a coupon back when its order is cancelled: available again while still valid,
    otherwise expired. Returns (coupon, replayed); a repeat for the same order is a replay."""
    now = now or timezone.now()
    order_id = (order_id or "").strip()
    if not order_id:
        raise ApplicationError("An order id is required.", errors={"order_id": ["This field is required."]})
    with transaction.atomic():
        coupon = _get_locked(code)
        partner_pk = getattr(partner, "pk", None)
        if coupon.status != Coupon.Status.REDEEMED:
            if coupon.events.filter(kind=CouponEvent.Kind.RELEASED, order_id=order_id).exists():
                return coupon, True
            raise Conflict("This coupon is not used on that order.", code="coupon_not_redeemed")
        if coupon.order_id != order_id or coupon.order_partner_id != partner_pk:
            raise Conflict("This coupon was used on another order.", code="coupon_not_redeemed")
        new_status = Coupon.Status.AVAILABLE if now < coupon.valid_until else Coupon.Status.EXPIRED
        Coupon.objects.filter(pk=coupon.pk).update(
            status=new_status,
            order_id="",
            order_partner=None,
            order_amount=None,
            discount_amount=None,
            redeemed_at=None,
            status_changed_at=now,
        )
        events = [
            CouponEvent(
                coupon=coupon, kind=CouponEvent.Kind.RELEASED, order_id=order_id, actor=actor, created_at=now
            )
        ]
        if new_status == Coupon.Status.EXPIRED:
            events.append(CouponEvent(coupon=coupon, kind=CouponEvent.Kind.EXPIRED, created_at=now))
        CouponEvent.objects.bulk_create(events)
        coupon.refresh_from_db()
    return coupon, False


def coupon_revoke(*, coupon: Coupon, actor, reason: str, now: datetime | None = None) -> Coupon:
    """Operator takes back an unused coupon (with a reason, audited)."""
    now = now or timezone.now()
    if not reason.strip():
        raise ApplicationError("A reason is required.", errors={"reason": ["This field is required."]})
    with transaction.atomic():
        locked = _get_locked(coupon.code)
        if locked.status != Coupon.Status.AVAILABLE:
            raise Conflict("Only an available coupon can be revoked.", code=ErrorCode.COUPON_NOT_APPLICABLE)
        Coupon.objects.filter(pk=locked.pk).update(status=Coupon.Status.REVOKED, status_changed_at=now)
        CouponEvent.objects.create(
            coupon=locked,
            kind=CouponEvent.Kind.REVOKED,
            actor=str(actor)[:200],
            note=reason[:255],
            created_at=now,
        )
        audit_log_record(
            action="coupon.revoke",
            actor_type="operator",
            actor_user=actor,
            target_type="benefits.coupon",
            target_id=locked.code,
            before={"status": locked.status},
            after={"status": Coupon.Status.REVOKED},
            note=reason,
        )
        locked.refresh_from_db()
    return locked
