"""Coupons: issue (single and in batches), redeem against an order, release, revoke, expire.

Usage limits are enforced under a row lock on the template (select_for_update): the stock
check, the per-member count, the source-key lookup and the `issued_count` increment happen
while the lock is held, so concurrent issues can neither oversell the stock nor exceed a
member's limit (the race still open in django-oscar #4580). A CheckConstraint
(issued_count <= total_quantity) and the unique (template, member, source_key) back it in
the database.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.errors import ApplicationError, Conflict, ErrorCode, NotFound
from core.money import format_money
from core.outbox import outbox_emit
from core.services import audit_log_record
from members.services import member_assert_can_transact, member_notify

from .. import pricing
from ..lock_objects import coupon_lock_by_code, coupon_template_lock
from ..models import Coupon, CouponEvent, CouponTemplate, new_coupon_code

logger = logging.getLogger(__name__)

ISSUED = "issued"
EXISTING = "existing"
LIMIT_REACHED = "limit_reached"
OUT_OF_STOCK = "out_of_stock"
MEMBER_INACTIVE = "member_inactive"


@dataclass(frozen=True)
class IssueOutcome:
    member: object
    source_key: str | None
    result: str
    coupon: Coupon | None = None


def coupon_validity(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    """(valid_from, valid_until) of a coupon issued now."""
    if template.validity == CouponTemplate.Validity.ABSOLUTE:
        return (template.valid_from or now), template.valid_until
    start = max(now, template.valid_from) if template.valid_from else now
    until = start + timedelta(days=template.valid_days or 0)
    if template.valid_until is not None:
        until = min(until, template.valid_until)
    return start, until


def _assert_issuable(template: CouponTemplate, now: datetime) -> None:
    if not template.is_active:
        raise ApplicationError("This coupon template is not active.", code="template_inactive", status=409)
    if template.valid_until is not None and template.valid_until <= now:
        raise ApplicationError("This coupon template has ended.", code="template_inactive", status=409)


def coupon_payload(coupon: Coupon) -> dict:
    return {
        "code": coupon.code,
        "member_id": coupon.member.member_id,
        "template": coupon.template.public_id,
        "template_code": coupon.template.code,
        "kind": coupon.template.kind,
        "status": coupon.status,
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "issued_by": coupon.issued_by,
        "source_ref": coupon.source_ref,
    }


def _issue_locked(
    *,
    template: CouponTemplate,
    requests: Sequence[tuple[object, str | None]],
    source: str,
    source_ref: str,
    partner,
    actor: str,
    now: datetime,
) -> list[IssueOutcome]:
    """Issue one coupon per (member, source_key) request. The template row MUST be locked."""
    member_pks = {m.pk for m, _key in requests}
    keys = {k for _m, k in requests if k}
    existing: dict[tuple[int, str], Coupon] = {}
    if keys:
        for coupon in Coupon.objects.filter(template=template, member_id__in=member_pks, source_key__in=keys):
            existing[(coupon.member_id, coupon.source_key)] = coupon
    held: Counter = Counter()
    if template.per_member_limit is not None:
        held.update(
            dict(
                Coupon.objects.filter(template=template, member_id__in=member_pks)
                .exclude(status=Coupon.Status.REVOKED)
                .values_list("member_id")
                .annotate(n=Count("id"))
                .values_list("member_id", "n")
            )
        )
    remaining = template.remaining
    valid_from, valid_until = coupon_validity(template, now)
    outcomes: list[IssueOutcome] = []
    to_create: list[Coupon] = []
    for member, key in requests:
        if key and (member.pk, key) in existing:
            outcomes.append(IssueOutcome(member, key, EXISTING, existing[(member.pk, key)]))
            continue
        if getattr(member, "status", "active") != "active":
            outcomes.append(IssueOutcome(member, key, MEMBER_INACTIVE))
            continue
        if template.per_member_limit is not None and held[member.pk] >= template.per_member_limit:
            outcomes.append(IssueOutcome(member, key, LIMIT_REACHED))
            continue
        if remaining is not None and remaining <= 0:
            outcomes.append(IssueOutcome(member, key, OUT_OF_STOCK))
            continue
        coupon = Coupon(
            template=template,
            member=member,
            valid_from=valid_from,
            valid_until=valid_until,
            issued_at=now,
            issued_by=source,
            source_ref=source_ref[:100],
            source_key=key,
            partner=partner,
            status_changed_at=now,
        )
        to_create.append(coupon)
        held[member.pk] += 1
        if key:
            existing[(member.pk, key)] = coupon
        if remaining is not None:
            remaining -= 1
        outcomes.append(IssueOutcome(member, key, ISSUED, coupon))
    if not to_create:
        return outcomes
    for attempt in range(3):
        try:
            with transaction.atomic():
                Coupon.objects.bulk_create(to_create)
            break
        except IntegrityError:
            # A code collision (60 random bits) is all but impossible; draw new codes once more.
            if attempt == 2:
                raise
            for coupon in to_create:
                coupon.code = new_coupon_code()
                coupon.pk = None
    if not all(c.pk for c in to_create):  # backends without RETURNING ids
        by_code = dict(Coupon.objects.filter(code__in=[c.code for c in to_create]).values_list("code", "pk"))
        for coupon in to_create:
            coupon.pk = by_code[coupon.code]
    CouponTemplate.objects.filter(pk=template.pk).update(issued_count=F("issued_count") + len(to_create))
    template.issued_count += len(to_create)
    CouponEvent.objects.bulk_create(
        [
            CouponEvent(
                coupon=c, kind=CouponEvent.Kind.ISSUED, actor=actor[:200], note=source, created_at=now
            )
            for c in to_create
        ]
    )
    for coupon in to_create:
        outbox_emit(type="coupon.issued", data=coupon_payload(coupon))
    return outcomes


def coupon_issue(
    *,
    template: CouponTemplate,
    member,
    source: str,
    source_ref: str = "",
    source_key: str | None = None,
    partner=None,
    actor: str = "",
    now: datetime | None = None,
) -> tuple[Coupon, bool]:
    """Issue one coupon. Returns (coupon, created); with a source_key a repeat returns the
    coupon issued the first time. Raises 409 out_of_stock / limit_reached / member_frozen."""
    now = now or timezone.now()
    if source not in Coupon.Source.values:
        raise ApplicationError(
            "Unknown issue source.", errors={"source": [f"One of {Coupon.Source.values}."]}
        )
    with transaction.atomic():
        if source_key:
            found = Coupon.objects.filter(template=template, member=member, source_key=source_key).first()
            if found is not None:
                return found, False
        member_assert_can_transact(member)
        locked = coupon_template_lock(pk=template.pk)
        _assert_issuable(locked, now)
        (outcome,) = _issue_locked(
            template=locked,
            requests=[(member, source_key)],
            source=source,
            source_ref=source_ref,
            partner=partner,
            actor=actor,
            now=now,
        )
        template.issued_count = locked.issued_count
    if outcome.result == OUT_OF_STOCK:
        raise Conflict("This coupon is out of stock.", code=ErrorCode.OUT_OF_STOCK)
    if outcome.result == LIMIT_REACHED:
        raise Conflict(
            f"This member already holds the most coupons of this kind ({locked.per_member_limit}).",
            code=ErrorCode.LIMIT_REACHED,
        )
    if outcome.result == MEMBER_INACTIVE:
        member_assert_can_transact(member)
    assert outcome.coupon is not None
    return outcome.coupon, outcome.result == ISSUED


def coupon_issue_many(
    *,
    template: CouponTemplate,
    requests: Sequence[tuple[object, str | None]],
    source: str,
    source_ref: str = "",
    partner=None,
    actor: str = "",
    now: datetime | None = None,
) -> list[IssueOutcome]:
    """Issue to many (member, source_key) pairs under one template lock (jobs, campaigns).
    Never raises for one member's refusal: each outcome says issued / existing /
    limit_reached / out_of_stock / member_inactive."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = coupon_template_lock(pk=template.pk)
        _assert_issuable(locked, now)
        return _issue_locked(
            template=locked,
            requests=requests,
            source=source,
            source_ref=source_ref,
            partner=partner,
            actor=actor,
            now=now,
        )


# --- redeem / release ------------------------------------------------------------------------


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


def coupon_offer(coupon: Coupon, *, owned: bool = True) -> pricing.CouponOffer:
    t = coupon.template
    return pricing.CouponOffer(
        code=coupon.code,
        template_id=t.public_id,
        name=t.name,
        kind=t.kind,
        status=coupon.status,
        owned=owned,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        threshold=t.threshold,
        amount=t.amount,
        rate=t.rate,
        cap=t.cap,
        categories=tuple(t.categories or ()),
        skus=tuple(t.skus or ()),
        exclude_categories=tuple(t.exclude_categories or ()),
        exclude_skus=tuple(t.exclude_skus or ()),
        channels=tuple(t.channels or ()),
        stores=tuple(t.stores or ()),
        tier_codes=tuple(t.tier_codes or ()),
        exclusive=t.stacking == CouponTemplate.Stacking.EXCLUSIVE,
        stack_group=t.effective_stack_group,
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
    eligible items; with `channel` / `store_id`, those scopes too."""
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
        lines = list(items) if items else [pricing.CartLine("", "", 1, amount)]
        if not items:  # without items only the amount and the given channel/store are checked
            offer = _without_line_scope(offer)
        if not channel:
            offer = _replace(offer, channels=())
        if not store_id:
            offer = _replace(offer, stores=())
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


# --- expiry ----------------------------------------------------------------------------------


def coupons_expire_due(*, now: datetime | None = None, chunk_size: int = 1000) -> int:
    """Mark available coupons past their end as expired, in chunks (bounded memory,
    restartable: every chunk commits on its own and a re-run finds only what is left)."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            pks = list(
                Coupon.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Coupon.Status.AVAILABLE, valid_until__lte=now)
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not pks:
                break
            Coupon.objects.filter(pk__in=pks).update(status=Coupon.Status.EXPIRED, status_changed_at=now)
            CouponEvent.objects.bulk_create(
                [CouponEvent(coupon_id=pk, kind=CouponEvent.Kind.EXPIRED, created_at=now) for pk in pks]
            )
        total += len(pks)
    return total


def coupons_remind_expiring(*, days: int, now: datetime | None = None, chunk_size: int = 1000) -> int:
    """One inbox reminder per coupon that ends within `days` days (dedupe_key: re-runs are no-ops)."""
    now = now or timezone.now()
    horizon = now + timedelta(days=days)
    sent = 0
    last_pk = 0
    while True:
        coupons = list(
            Coupon.objects.select_related("template", "member")
            .filter(
                Q(reminded_at__isnull=True),
                status=Coupon.Status.AVAILABLE,
                valid_until__gt=now,
                valid_until__lte=horizon,
                pk__gt=last_pk,
            )
            .order_by("pk")[:chunk_size]
        )
        if not coupons:
            break
        last_pk = coupons[-1].pk
        with transaction.atomic():
            for coupon in coupons:
                local_end = timezone.localtime(coupon.valid_until)
                note = member_notify(
                    member=coupon.member,
                    kind="coupon.expiring",
                    title=_("Your coupon %(name)s expires soon") % {"name": coupon.template.name},
                    body=_("Coupon %(code)s ends on %(date)s. Use it before it expires.")
                    % {"code": coupon.code, "date": local_end.strftime("%Y-%m-%d %H:%M")},
                    data={"code": coupon.code, "valid_until": coupon.valid_until.isoformat()},
                    channels=("inbox",),
                    dedupe_key=f"coupon.expiring:{coupon.code}",
                )
                sent += 1 if note is not None else 0
            Coupon.objects.filter(pk__in=[c.pk for c in coupons]).update(reminded_at=now)
    return sent


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


def coupon_template_create(**fields) -> CouponTemplate:
    """Create a template after model validation (admin forms validate the same way)."""
    template = CouponTemplate(**fields)
    template.full_clean(exclude=["public_id"])
    template.save()
    return template


def coupons_revoke_for_member(*, member, reason: str, now: datetime | None = None) -> int:
    """Revoke every available coupon of a member (account closed). Set-based."""
    now = now or timezone.now()
    with transaction.atomic():
        pks = list(
            Coupon.objects.select_for_update(of=("self",))
            .filter(member=member, status=Coupon.Status.AVAILABLE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Coupon.objects.filter(pk__in=pks).update(status=Coupon.Status.REVOKED, status_changed_at=now)
        CouponEvent.objects.bulk_create(
            [
                CouponEvent(
                    coupon_id=pk,
                    kind=CouponEvent.Kind.REVOKED,
                    actor="system",
                    note=reason[:255],
                    created_at=now,
                )
                for pk in pks
            ]
        )
    return len(pks)


def on_member_closed(*, member, **_: object) -> None:
    """core.events MEMBER_CLOSED handler: a closed account keeps no usable coupons."""
    coupons_revoke_for_member(member=member, reason="account closed")
