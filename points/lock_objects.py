"""Every row lock of the points domain, in one place (Saleor giftcard/lock_objects.py).

Lock order inside one transaction: (adjustment →) accounts (by pk) → hold → reward → order. Every writer of
an account's balances, lots, holds and awards holds that account's row lock, so the lock on
the account serialises everything that moves its value.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Order, PointsAccount, PointsAdjustment, PointsHold, Reward


def account_lock(*, account_pk: int) -> PointsAccount:
    return PointsAccount.objects.select_for_update(of=("self",)).get(pk=account_pk)


def account_lock_of_member(*, member_pk: int) -> PointsAccount | None:
    """The member's account locked, or None if the member has none yet."""
    return PointsAccount.objects.select_for_update(of=("self",)).filter(member_id=member_pk).first()


def accounts_lock(*, account_pks: Iterable[int]) -> list[PointsAccount]:
    """Lock several accounts in primary-key order (no deadlock between two such callers)."""
    return list(
        PointsAccount.objects.select_for_update(of=("self",)).filter(pk__in=set(account_pks)).order_by("pk")
    )


def hold_lock(*, hold_pk: int) -> PointsHold:
    return PointsHold.objects.select_for_update(of=("self",)).get(pk=hold_pk)


def reward_lock(*, reward_pk: int) -> Reward:
    return Reward.objects.select_for_update(of=("self",)).get(pk=reward_pk)


def order_lock(*, order_pk: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).get(pk=order_pk)


def adjustment_lock(*, adjustment_pk: int) -> PointsAdjustment:
    """Lock order: the adjustment first, then (when it posts) its account."""
    return (
        PointsAdjustment.objects.select_for_update(of=("self",))
        .select_related("account__member")
        .get(pk=adjustment_pk)
    )
