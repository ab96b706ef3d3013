"""Background jobs: confirm pending points, expire lots, remind before expiry, expire holds,
reconcile. Each is idempotent and restartable, walks its table in primary-key chunks (bounded
memory whatever the size) and records its counts with core.jobs.job_run."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import Case, F, Min, Sum, Value, When
from django.utils import timezone

from core.jobs import job_run
from core.outbox import outbox_emit, outbox_emit_bulk

from ..lock_objects import account_lock, accounts_lock
from ..models import (
    Order,
    PointsAccount,
    PointsEntry,
    PointsHold,
    PointsLot,
    ReconciliationDrift,
    ReconciliationReport,
)
from .holds import points_hold_expire
from .ledger import accounts_add_bulk, confirm_lot, points_settings_get

logger = logging.getLogger("memberhub.points")


def points_confirm_pending(*, now: datetime | None = None, chunk_size: int = 500) -> dict:
    """Confirm order points whose return window has closed (pending → available)."""
    now = now or timezone.now()
    with job_run("points.confirm_pending") as counts:
        last_pk = 0
        while True:
            rows = list(
                PointsLot.objects.filter(
                    state=PointsLot.State.PENDING, remaining__gt=0, confirm_after__lte=now, pk__gt=last_pk
                )
                .order_by("pk")
                .values_list("pk", "account_id", "order_id")[:chunk_size]
            )
            if not rows:
                break
            for lot_pk, account_pk, order_pk in rows:
                with transaction.atomic():
                    account = account_lock(account_pk=account_pk)
                    lot = PointsLot.objects.get(pk=lot_pk)
                    entry = confirm_lot(account, lot, reason="return window closed")
                    if entry is None:
                        counts["skipped"] += 1
                        continue
                    counts["lots"] += 1
                    counts["points"] += entry.amount
                    if order_pk:
                        Order.objects.filter(pk=order_pk, confirmed_at__isnull=True).update(
                            confirmed_at=now,
                            status=Case(
                                When(status=Order.Status.PAID, then=Value(Order.Status.COMPLETED)),
                                default=F("status"),
                            ),
                        )
            last_pk = rows[-1][0]
        return dict(counts)


def points_expire_lots(*, now: datetime | None = None, chunk_size: int = 5000) -> dict:
    """Expire every available lot whose time is up, set-based, in chunks of accounts.

    The due lots are walked in account order along the FIFO index, at most `chunk_size` lots
    at a time (bounded memory whatever the table size). Per chunk: lock its accounts (pk
    order), zero their due lots in one UPDATE, write one `expire` entry per lot in one INSERT
    (unique per lot, so a re-run after a crash writes nothing twice), decrement each account
    once with a CASE expression, and emit one points.expired webhook per account.
    """
    now = now or timezone.now()
    with job_run("points.expire_lots") as counts:
        due = PointsLot.objects.filter(state=PointsLot.State.AVAILABLE, remaining__gt=0, expires_at__lte=now)
        last_account = 0
        while True:
            rows = list(
                due.filter(account_id__gt=last_account)
                .order_by("account_id", "expires_at", "pk")
                .values_list("account_id", flat=True)[:chunk_size]
            )
            if not rows:
                break
            account_pks = sorted(set(rows))
            if len(rows) == chunk_size and len(account_pks) > 1:
                account_pks = account_pks[:-1]  # the last account may be cut: the next chunk takes it whole
                limit = None
                last_account = account_pks[-1]
            elif len(rows) == chunk_size:
                limit = chunk_size  # one account with more due lots than a chunk: in parts
                last_account = account_pks[0] - 1
            else:
                limit = None
                last_account = account_pks[-1]
            _expire_accounts(due, account_pks, now=now, limit=limit, counts=counts)
            counts["chunks"] += 1
        return dict(counts)


def _expire_accounts(due, account_pks: list[int], *, now: datetime, limit: int | None, counts) -> None:
    with transaction.atomic():
        accounts = {a.pk: a for a in accounts_lock(account_pks=account_pks)}
        # Read under the locks: nothing else can move these lots now.
        lots_qs = due.filter(account_id__in=list(accounts)).order_by("account_id", "expires_at", "pk")
        lots = list(
            lots_qs.values_list("pk", "account_id", "remaining")[:limit]
            if limit
            else lots_qs.values_list("pk", "account_id", "remaining")
        )
        if not lots:
            return
        PointsLot.objects.filter(pk__in=[pk for pk, _a, _r in lots]).update(remaining=0)
        balance = {pk: a.available for pk, a in accounts.items()}
        per_account: dict[int, int] = defaultdict(int)
        entries = []
        for lot_pk, account_pk, remaining in lots:
            balance[account_pk] -= remaining
            per_account[account_pk] += remaining
            entries.append(
                PointsEntry(
                    account_id=account_pk,
                    kind=PointsEntry.Kind.EXPIRE,
                    amount=-remaining,
                    delta_available=-remaining,
                    balance_after=balance[account_pk],
                    source_type="lot",
                    source_id=str(lot_pk),
                    actor="system",
                    reason="points expired",
                    created_at=now,
                )
            )
        PointsEntry.objects.bulk_create(entries, batch_size=2000)
        accounts_add_bulk(
            {pk: {"available": -points, "lifetime_expired": points} for pk, points in per_account.items()},
            at=now,
        )
        members = dict(
            PointsAccount.objects.filter(pk__in=list(per_account)).values_list("pk", "member__member_id")
        )
        outbox_emit_bulk(
            type="points.expired",
            items=[
                {
                    "member_id": members[account_pk],
                    "points": points,
                    "available": balance[account_pk],
                    "expired_at": now,
                }
                for account_pk, points in per_account.items()
            ],
        )
        counts["lots"] += len(lots)
        counts["points"] += sum(per_account.values())
        counts["accounts"] += len(per_account)


def points_remind_expiring(*, now: datetime | None = None, chunk_size: int = 2000) -> dict:
    """Tell members N days ahead that points will expire (inbox/email/SMS once per expiry day)
    and emit points.expiring."""
    from members.services import member_notify

    now = now or timezone.now()
    policy = points_settings_get()
    horizon = now + timedelta(days=policy.reminder_days_before)
    with job_run("points.remind_expiring") as counts:
        expiring = PointsLot.objects.filter(
            state=PointsLot.State.AVAILABLE, remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon
        )
        last_account = 0
        while True:
            rows = list(
                expiring.filter(account_id__gt=last_account)
                .values("account_id")
                .annotate(points=Sum("remaining"), first=Min("expires_at"))
                .order_by("account_id")[:chunk_size]
            )
            if not rows:
                break
            accounts = {
                a.pk: a
                for a in PointsAccount.objects.filter(pk__in=[r["account_id"] for r in rows]).select_related(
                    "member"
                )
            }
            for row in rows:
                account = accounts[row["account_id"]]
                member = account.member
                if member.status == member.Status.CLOSED:
                    counts["skipped_closed"] += 1
                    continue
                first_day = timezone.localtime(row["first"]).date()
                with transaction.atomic():
                    note = member_notify(
                        member=member,
                        kind="points_expiring",
                        title="积分即将过期 Points expiring soon",
                        body=f"{row['points']} points expire by {first_day.isoformat()}.",
                        data={"points": int(row["points"]), "expires_at": row["first"].isoformat()},
                        channels=("inbox", "sms"),
                        dedupe_key=f"points-expiring:{first_day.isoformat()}",
                    )
                    if note is None:
                        counts["already_reminded"] += 1
                        continue
                    outbox_emit(
                        type="points.expiring",
                        data={
                            "member_id": member.member_id,
                            "points": int(row["points"]),
                            "expires_at": row["first"],
                        },
                    )
                counts["reminded"] += 1
            last_account = rows[-1]["account_id"]
        return dict(counts)


def points_expire_holds(*, now: datetime | None = None, chunk_size: int = 500) -> dict:
    """Release holds that were neither captured nor released in time."""
    now = now or timezone.now()
    with job_run("points.expire_holds") as counts:
        last_pk = 0
        while True:
            pks = list(
                PointsHold.objects.filter(
                    status=PointsHold.Status.ACTIVE, expires_at__lte=now, pk__gt=last_pk
                )
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk_size]
            )
            if not pks:
                break
            for pk in pks:
                counts["expired" if points_hold_expire(hold_pk=pk) else "skipped"] += 1
            last_pk = pks[-1]
        return dict(counts)


def points_reconcile(*, chunk_size: int = 2000) -> ReconciliationReport:
    """Prove for every account: each balance == the sum of its entries' deltas, available ==
    open available lots, pending == pending lots, held == active holds. Drift is recorded,
    logged and mailed to settings.ADMINS."""
    report = ReconciliationReport.objects.create()
    with job_run("points.reconcile") as counts:
        last_pk = 0
        while True:
            accounts = list(
                PointsAccount.objects.filter(pk__gt=last_pk)
                .order_by("pk")
                .values("pk", "available", "pending", "held", "debt")[:chunk_size]
            )
            if not accounts:
                break
            lo, hi = accounts[0]["pk"], accounts[-1]["pk"]
            entry_sums = {
                r["account_id"]: r
                for r in PointsEntry.objects.filter(account_id__gte=lo, account_id__lte=hi)
                .values("account_id")
                .annotate(
                    available=Sum("delta_available"),
                    pending=Sum("delta_pending"),
                    held=Sum("delta_held"),
                    debt=Sum("delta_debt"),
                )
                .order_by()
            }
            lot_sums: dict[tuple[int, str], int] = {
                (r["account_id"], r["state"]): int(r["total"] or 0)
                for r in PointsLot.objects.filter(account_id__gte=lo, account_id__lte=hi, remaining__gt=0)
                .values("account_id", "state")
                .annotate(total=Sum("remaining"))
                .order_by()
            }
            hold_sums = {
                r["account_id"]: int(r["total"] or 0)
                for r in PointsHold.objects.filter(
                    account_id__gte=lo, account_id__lte=hi, status=PointsHold.Status.ACTIVE
                )
                .values("account_id")
                .annotate(total=Sum("points"))
                .order_by()
            }
            drifts = []
            for account in accounts:
                pk = account["pk"]
                sums = entry_sums.get(pk, {})
                expected_other = {
                    "available": lot_sums.get((pk, PointsLot.State.AVAILABLE), 0),
                    "pending": lot_sums.get((pk, PointsLot.State.PENDING), 0),
                    "held": hold_sums.get(pk, 0),
                    "debt": None,
                }
                for balance in ("available", "pending", "held", "debt"):
                    recorded = int(account[balance])
                    from_entries = int(sums.get(balance) or 0)
                    other = expected_other[balance]
                    if recorded != from_entries or (other is not None and other != recorded):
                        drifts.append(
                            ReconciliationDrift(
                                report=report,
                                account_id=pk,
                                balance=balance,
                                recorded=recorded,
                                from_entries=from_entries,
                                from_lots=other,
                            )
                        )
            ReconciliationDrift.objects.bulk_create(drifts)
            counts["accounts"] += len(accounts)
            counts["drift"] += len(drifts)
            last_pk = hi
        ReconciliationReport.objects.filter(pk=report.pk).update(
            finished_at=timezone.now(), accounts_checked=counts["accounts"], drift_count=counts["drift"]
        )
        report.refresh_from_db()
        if counts["drift"]:
            sample = list(report.drifts.all()[:20])
            message = "\n".join(str(d) for d in sample)
            logger.error("points reconciliation found %s drifting balances:\n%s", counts["drift"], message)
            if getattr(settings, "ADMINS", None):
                mail_admins(
                    f"Points reconciliation: {counts['drift']} drifting balances",
                    f"Report {report.pk}. First ones:\n{message}",
                    fail_silently=True,
                )
    return report
