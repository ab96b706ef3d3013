"""Issuing coupons, one or many, under the template's usage limits.

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

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from core.errors import ApplicationError, Conflict, ErrorCode
from core.outbox import outbox_emit_bulk
from members.services import member_assert_can_transact

from ..lock_objects import coupon_template_lock
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
    outbox_emit_bulk(type="coupon.issued", items=[coupon_payload(c) for c in to_create])
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


def coupon_template_create(**fields) -> CouponTemplate:
    """Create a template after model validation (admin forms validate the same way)."""
    template = CouponTemplate(**fields)
    template.full_clean(exclude=["public_id"])
    template.save()
    return template
