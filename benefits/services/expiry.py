"""Coupons that end: the expiry job, reminders before the end, revocation on account closure."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from members.services import member_notify

from ..models import Coupon, CouponEvent

logger = logging.getLogger(__name__)


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
