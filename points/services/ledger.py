"""Ledger primitives: every balance change goes through `_post`, under the account's row lock.

The helpers here assume the caller holds the account lock (`lock_objects.account_lock`) inside
a transaction; the public services in the sibling modules take it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import events
from core.errors import ApplicationError, Conflict, ErrorCode
from core.outbox import outbox_emit

from ..lock_objects import account_lock, account_lock_of_member
from ..models import PointsAccount, PointsEntry, PointsLot, PointsSettings

SYSTEM = "system"


def points_settings_get() -> PointsSettings:
    settings_row = PointsSettings.objects.filter(pk=1).first()
    if settings_row is None:
        try:
            with transaction.atomic():
                settings_row = PointsSettings.objects.create(pk=1)
        except IntegrityError:
            settings_row = PointsSettings.objects.get(pk=1)
    return settings_row


def actor_label(actor) -> str:
    """A text label for whoever caused a change: a user, a partner principal or a string."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor[:200]
    partner = getattr(actor, "partner", None)
    if partner is not None and not getattr(actor, "member_id", None):
        return f"partner:{partner.name}"[:200]
    if getattr(actor, "pk", None) is not None:
        return f"user:{actor.pk}"
    return str(actor)[:200]


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def lot_expiry(*, earned_at: datetime, policy: PointsSettings) -> datetime | None:
    """When points earned at `earned_at` expire under the programme's expiry policy."""
    if policy.expiry_policy == PointsSettings.ExpiryPolicy.NEVER:
        return None
    if policy.expiry_policy == PointsSettings.ExpiryPolicy.CALENDAR:
        local = timezone.localtime(earned_at)
        # End of the year after earning = the first instant of the year after that.
        return local.replace(year=local.year + 2, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return add_months(earned_at, policy.expiry_months)


def points_account_ensure(*, member) -> PointsAccount:
    """The member's account, created on first use (concurrent creators: one wins)."""
    account = PointsAccount.objects.filter(member=member).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(member=member)
    except IntegrityError:
        return PointsAccount.objects.get(member=member)


def account_lock_for_member(*, member) -> PointsAccount:
    """The member's account, locked FOR UPDATE (created first if missing)."""
    account = account_lock_of_member(member_pk=member.pk)
    if account is not None:
        return account
    return account_lock(account_pk=points_account_ensure(member=member).pk)


def entry_exists(*, kind: str, source_type: str, source_id: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(kind=kind, source_type=source_type, source_id=str(source_id)).first()


def post_entry(
    account: PointsAccount,
    *,
    kind: str,
    amount: int,
    source_type: str,
    source_id: str,
    d_available: int = 0,
    d_pending: int = 0,
    d_held: int = 0,
    d_debt: int = 0,
    earned: int = 0,
    spent: int = 0,
    expired: int = 0,
    actor: str = SYSTEM,
    reason: str = "",
    at: datetime | None = None,
) -> PointsEntry:
    """Move the balances of a LOCKED account with F() and write the entry in the same transaction.

    The in-memory `account` is kept in step, so callers can read the new balances.
    """
    now = at or timezone.now()
    changes = {}
    for field, delta in (
        ("available", d_available),
        ("pending", d_pending),
        ("held", d_held),
        ("debt", d_debt),
        ("lifetime_earned", earned),
        ("lifetime_spent", spent),
        ("lifetime_expired", expired),
    ):
        if delta:
            changes[field] = F(field) + delta
            setattr(account, field, getattr(account, field) + delta)
    for field in ("available", "pending", "held", "debt"):
        if getattr(account, field) < 0:
            raise ApplicationError(
                f"The {field} balance cannot go below zero.", code=ErrorCode.INSUFFICIENT_POINTS
            )
    PointsAccount.objects.filter(pk=account.pk).update(updated_at=timezone.now(), **changes)
    return PointsEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        delta_available=d_available,
        delta_pending=d_pending,
        delta_held=d_held,
        delta_debt=d_debt,
        balance_after=account.available,
        source_type=source_type,
        source_id=str(source_id)[:100],
        actor=actor[:200],
        reason=reason[:255],
        created_at=now,
    )


@dataclass
class LotTake:
    lot: PointsLot
    points: int


def consume_lots(account: PointsAccount, points: int, *, first_lot_pk: int | None = None) -> list[LotTake]:
    """Take `points` from the account's available lots, oldest-expiring first (FIFO by
    expires_at, never-expiring last), optionally starting with one given lot."""
    takes: list[LotTake] = []
    if points <= 0:
        return takes
    need = points
    lots = PointsLot.objects.filter(
        account=account, state=PointsLot.State.AVAILABLE, remaining__gt=0
    ).order_by(F("expires_at").asc(nulls_last=True), "id")
    if first_lot_pk is not None:
        first = [lot for lot in lots.filter(pk=first_lot_pk)]
        ordered = first + list(lots.exclude(pk=first_lot_pk)[:1000])
    else:
        ordered = list(lots[:1000])
    for lot in ordered:
        if need <= 0:
            break
        take = min(lot.remaining, need)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        lot.remaining -= take
        takes.append(LotTake(lot, take))
        need -= take
    if need > 0:
        # The lots do not cover the balance: the ledger has drifted. Refuse; reconciliation reports it.
        raise Conflict(
            "The account's lots do not cover its balance; the change was refused.",
            code=ErrorCode.INSUFFICIENT_POINTS,
        )
    return takes


def insufficient(available: int, wanted: int) -> Conflict:
    return Conflict(
        f"Not enough points: {available} available, {wanted} needed.",
        code=ErrorCode.INSUFFICIENT_POINTS,
        extra={"available": available, "requested": wanted},
    )


def announce_earned(account: PointsAccount, *, points: int, source_type: str, source_id: str, entry) -> None:
    """Points became available: webhook points.earned (outbox) and the core event."""
    if points <= 0:
        return
    member = account.member
    outbox_emit(
        type="points.earned",
        data={
            "member_id": member.member_id,
            "points": points,
            "available": account.available,
            "source_type": source_type,
            "source_id": str(source_id),
            "entry_id": entry.pk,
        },
    )
    events.publish(events.POINTS_EARNED, member=member, points=points, source=f"{source_type}:{source_id}")


def earn_available(
    account: PointsAccount,
    *,
    points: int,
    kind: str,
    source_type: str,
    source_id: str,
    actor: str = SYSTEM,
    reason: str = "",
    earned_at: datetime | None = None,
    order=None,
) -> PointsEntry:
    """Credit available points as a new lot; an outstanding debt is repaid first."""
    now = timezone.now()
    earned_at = earned_at or now
    repay = min(account.debt, points)
    policy = points_settings_get()
    PointsLot.objects.create(
        account=account,
        state=PointsLot.State.AVAILABLE,
        points=points,
        remaining=points - repay,
        earned_at=earned_at,
        expires_at=lot_expiry(earned_at=earned_at, policy=policy),
        source_type=source_type,
        source_id=str(source_id),
        order=order,
    )
    entry = post_entry(
        account,
        kind=kind,
        amount=points,
        d_available=points - repay,
        d_debt=-repay,
        earned=points,
        source_type=source_type,
        source_id=source_id,
        actor=actor,
        reason=reason or (f"repaid debt {repay}" if repay else ""),
    )
    announce_earned(account, points=points - repay, source_type=source_type, source_id=source_id, entry=entry)
    return entry


def earn_pending(
    account: PointsAccount,
    *,
    points: int,
    source_type: str,
    source_id: str,
    confirm_after: datetime,
    order=None,
    actor: str = SYSTEM,
    reason: str = "",
) -> tuple[PointsLot, PointsEntry]:
    lot = PointsLot.objects.create(
        account=account,
        state=PointsLot.State.PENDING,
        points=points,
        remaining=points,
        earned_at=timezone.now(),
        confirm_after=confirm_after,
        source_type=source_type,
        source_id=str(source_id),
        order=order,
    )
    entry = post_entry(
        account,
        kind="earn",
        amount=points,
        d_pending=points,
        earned=points,
        source_type=source_type,
        source_id=source_id,
        actor=actor,
        reason=reason,
    )
    return lot, entry


def confirm_lot(
    account: PointsAccount, lot: PointsLot, *, actor: str = SYSTEM, reason: str = ""
) -> PointsEntry | None:
    """Pending → available for one lot of a LOCKED account (debt repaid first). Idempotent."""
    lot.refresh_from_db()
    if lot.state != PointsLot.State.PENDING:
        return None
    now = timezone.now()
    confirmed_at = min(now, lot.confirm_after) if lot.confirm_after else now
    points = lot.remaining
    repay = min(account.debt, points)
    PointsLot.objects.filter(pk=lot.pk).update(
        state=PointsLot.State.AVAILABLE,
        remaining=points - repay,
        expires_at=lot_expiry(earned_at=confirmed_at, policy=points_settings_get()),
    )
    entry = post_entry(
        account,
        kind="confirm",
        amount=points,
        d_pending=-points,
        d_available=points - repay,
        d_debt=-repay,
        source_type="lot",
        source_id=str(lot.pk),
        actor=actor,
        reason=reason or (f"repaid debt {repay}" if repay else ""),
    )
    announce_earned(account, points=points - repay, source_type="lot", source_id=str(lot.pk), entry=entry)
    return entry


def expire_returned_points(
    account: PointsAccount, takes: list[LotTake], *, source_type: str, source_id: str
) -> int:
    """Points given back to lots that have meanwhile expired are expired at once."""
    now = timezone.now()
    late = [t for t in takes if t.lot.expires_at is not None and t.lot.expires_at <= now]
    total = sum(t.points for t in late)
    if not total:
        return 0
    for take in late:
        PointsLot.objects.filter(pk=take.lot.pk).update(remaining=F("remaining") - take.points)
    post_entry(
        account,
        kind="expire",
        amount=-total,
        d_available=-total,
        expired=total,
        source_type=source_type,
        source_id=source_id,
        reason="returned points had expired",
    )
    return total


def since(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


BALANCE_FIELDS = (
    "available",
    "pending",
    "held",
    "debt",
    "lifetime_earned",
    "lifetime_spent",
    "lifetime_expired",
)


def accounts_add_bulk(deltas: dict[int, dict[str, int]], *, at: datetime) -> None:
    """Add per-account deltas to balances in one statement (callers hold the account locks).

    PostgreSQL: UPDATE ... FROM (VALUES ...); elsewhere a CASE per column (fine for the
    small batches SQLite sees).
    """
    from django.db import connection
    from django.db.models import Case, Value, When

    if not deltas:
        return
    fields = [f for f in BALANCE_FIELDS if any(d.get(f) for d in deltas.values())]
    if not fields:
        return
    if connection.vendor == "postgresql":
        table = PointsAccount._meta.db_table
        rows = list(deltas.items())
        for start in range(0, len(rows), 5000):
            part = rows[start : start + 5000]
            placeholders = ", ".join(["(" + ", ".join(["%s::bigint"] * (len(fields) + 1)) + ")"] * len(part))
            params: list = [at]
            for pk, d in part:
                params.extend([pk, *[int(d.get(f, 0)) for f in fields]])
            sets = ", ".join(f"{f} = a.{f} + v.{f}" for f in fields)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} AS a SET {sets}, updated_at = %s "  # noqa: S608 - field names are constants
                    f"FROM (VALUES {placeholders}) AS v(id, {', '.join(fields)}) WHERE a.id = v.id",
                    params,
                )
        return
    changes = {
        f: F(f)
        + Case(*[When(pk=pk, then=Value(int(d.get(f, 0)))) for pk, d in deltas.items()], default=Value(0))
        for f in fields
    }
    PointsAccount.objects.filter(pk__in=list(deltas)).update(updated_at=at, **changes)
