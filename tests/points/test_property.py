"""Property-based: random sequences of ledger operations keep every invariant.

Operations: earn, pay an order (pending), complete it, refund part of it, hold, capture
(part), release, redeem in the mall, adjust down, expire a lot. After every step: no balance
is negative, each balance equals the sum of its entries, available equals the open lots,
pending the pending lots, held the active holds (the nightly reconciliation finds nothing),
and held equals what the model says is still held.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import ApplicationError
from core.models import Partner
from points.models import PointsAccount, PointsHold, PointsLot
from points.services import (
    order_complete,
    order_record,
    order_refund,
    points_adjustment_request,
    points_expire_lots,
    points_hold_capture,
    points_hold_create,
    points_hold_release,
    points_reconcile,
    reward_create,
    reward_redeem,
)

from .factories import give_points, make_member

_ids = itertools.count(1)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.member = make_member()
        self.shop = Partner.objects.get_or_create(name="shop")[0]
        self.reward = reward_create(name=f"R{next(_ids)}", kind="goods", points_price=37)
        self.orders: dict[str, Decimal] = {}  # order_id -> amount still refundable
        self.holds: dict[str, int] = {}  # active holds: hold_id -> points

    def _balance(self) -> PointsAccount | None:
        return PointsAccount.objects.filter(member=self.member).first()

    @rule(points=st.integers(min_value=1, max_value=500))
    def earn(self, points):
        give_points(self.member, points)

    @rule(amount=st.integers(min_value=0, max_value=400))
    def pay(self, amount):
        order_id = f"P{next(_ids)}"
        order_record(
            partner=self.shop,
            order_id=order_id,
            member=self.member,
            amount=Decimal(amount),
            paid_at=timezone.now(),
        )
        self.orders[order_id] = Decimal(amount)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def complete(self, data):
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        order_complete(partner=self.shop, order_id=order_id)

    @precondition(lambda self: any(v > 0 for v in self.orders.values()))
    @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
    def refund(self, data, share):
        order_id = data.draw(st.sampled_from(sorted(k for k, v in self.orders.items() if v > 0)))
        amount = max(Decimal("0.01"), (self.orders[order_id] * share / 100).quantize(Decimal("0.01")))
        amount = min(amount, self.orders[order_id])
        order_refund(partner=self.shop, order_id=order_id, refund_id=f"R{next(_ids)}", amount=amount)
        self.orders[order_id] -= amount

    @rule(points=st.integers(min_value=1, max_value=400))
    def hold(self, points):
        account = self._balance()
        available = account.available if account else 0
        try:
            hold = points_hold_create(member=self.member, points=points)
        except ApplicationError as exc:
            assert exc.code == "insufficient_points" and points > available
            return
        assert points <= available
        self.holds[hold.hold_id] = points

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), part=st.integers(min_value=1, max_value=100))
    def capture(self, data, part):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        points = max(1, self.holds[hold_id] * part // 100)
        points_hold_capture(hold_id=hold_id, points=points)
        del self.holds[hold_id]

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def release(self, data):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        points_hold_release(hold_id=hold_id)
        del self.holds[hold_id]

    @rule(quantity=st.integers(min_value=1, max_value=3))
    def redeem(self, quantity):
        try:
            reward_redeem(member=self.member, reward=self.reward, quantity=quantity)
        except ApplicationError as exc:
            assert exc.code == "insufficient_points"

    @rule(points=st.integers(min_value=1, max_value=300))
    def adjust_down(self, points):
        try:
            points_adjustment_request(member=self.member, points=-points, reason="property test")
        except ApplicationError as exc:
            assert exc.code == "insufficient_points"

    @rule()
    def expire_a_lot(self):
        lot = (
            PointsLot.objects.filter(account__member=self.member, state="available", remaining__gt=0)
            .order_by("pk")
            .first()
        )
        if lot is None:
            return
        PointsLot.objects.filter(pk=lot.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        points_expire_lots()

    @invariant()
    def balances_are_never_negative_and_reconcile(self):
        account = self._balance()
        if account is None:
            return
        assert min(account.available, account.pending, account.held, account.debt) >= 0
        assert account.held == sum(self.holds.values())
        assert account.held == sum(
            PointsHold.objects.filter(account=account, status="active").values_list("points", flat=True)
        )
        assert points_reconcile().drift_count == 0


@pytest.mark.django_db
def test_random_operation_sequences_keep_the_ledger_consistent():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
