"""Points mall (积分商城): rewards priced in points, stock and per-member limits."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.errors import ApplicationError, Conflict, ErrorCode, NotFound
from members.services import member_assert_can_transact

from ..lock_objects import reward_lock
from ..models import Reward, RewardRedemption
from ..rewards import fulfiller_for
from .ledger import account_lock_for_member, actor_label, consume_lots, insufficient, post_entry

MAX_QUANTITY = 100


def reward_create(**fields) -> Reward:
    reward = Reward(**fields)
    reward.full_clean()
    reward.save()
    return reward


def reward_redeem(
    *, member, reward: Reward | str, quantity: int = 1, partner=None, actor=None
) -> RewardRedemption:
    """Exchange points for a reward, atomically: the reward row is locked, so stock and the
    per-member limit hold under concurrency; the fulfiller runs inside the transaction."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not (1 <= quantity <= MAX_QUANTITY):
        raise ApplicationError("Invalid quantity.", errors={"quantity": [f"Between 1 and {MAX_QUANTITY}."]})
    if isinstance(reward, str):
        found = Reward.objects.filter(code=reward).first()
        if found is None:
            raise NotFound(
                f"No reward {reward!r}.", code="reward_not_found", errors={"reward": ["Unknown reward."]}
            )
        reward = found
    member_assert_can_transact(member)
    with transaction.atomic():
        account = account_lock_for_member(member=member)
        reward = reward_lock(reward_pk=reward.pk)
        now = timezone.now()
        if (
            not reward.is_active
            or (reward.starts_at and reward.starts_at > now)
            or (reward.ends_at and reward.ends_at <= now)
        ):
            raise Conflict("This reward is not available now.", code="reward_unavailable")
        if reward.stock is not None and reward.stock < quantity:
            raise Conflict("This reward is out of stock.", code=ErrorCode.OUT_OF_STOCK)
        if reward.per_member_limit is not None:
            taken = (
                RewardRedemption.objects.filter(reward=reward, account=account).aggregate(n=Sum("quantity"))[
                    "n"
                ]
                or 0
            )
            if taken + quantity > reward.per_member_limit:
                raise Conflict(
                    f"At most {reward.per_member_limit} per member.",
                    code=ErrorCode.LIMIT_REACHED,
                    extra={"limit": reward.per_member_limit, "redeemed": taken},
                )
        points = reward.points_price * quantity
        if account.available < points:
            raise insufficient(account.available, points)
        fulfiller = fulfiller_for(reward.kind)
        if reward.kind == Reward.Kind.COUPON and fulfiller is None:
            raise Conflict("Coupon rewards cannot be issued right now.", code="reward_unavailable")
        redemption = RewardRedemption.objects.create(
            reward=reward,
            account=account,
            quantity=quantity,
            points=points,
            partner=partner,
            status=RewardRedemption.Status.PENDING,
        )
        consume_lots(account, points)
        post_entry(
            account,
            kind="redeem",
            amount=-points,
            d_available=-points,
            spent=points,
            source_type="redemption",
            source_id=redemption.redemption_id,
            actor=actor_label(actor),
            reason=f"{reward.name} × {quantity}"[:255],
        )
        if reward.stock is not None:
            Reward.objects.filter(pk=reward.pk).update(stock=F("stock") - quantity)
        fulfilment: dict = {}
        if fulfiller is not None:
            fulfilment = fulfiller(member=member, reward=reward, redemption=redemption) or {}
            status = RewardRedemption.Status.FULFILLED
        elif reward.kind == Reward.Kind.RED_PACKET:
            fulfilment = {"amount": str(reward.red_packet_amount * quantity)}
            status = RewardRedemption.Status.PENDING
        else:
            status = RewardRedemption.Status.PENDING
        RewardRedemption.objects.filter(pk=redemption.pk).update(status=status, fulfilment=fulfilment)
        redemption.status, redemption.fulfilment = status, fulfilment
    return redemption
