"""Periodic re-evaluation (保级): retention check, grace, one-step downgrade.

Set-based and chunked: each chunk is a pk range of at most `chunk_size` due members; one
aggregate query per chunk sums every window for every member of it; state updates are
grouped per (from, to) tier. Each chunk commits together with the checkpoint row, so a
crashed run resumes after the last committed chunk and never applies a chunk twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.jobs import job_run
from members.services import Notice, member_notify_bulk

from .. import rules
from ..lock_objects import member_tier_lock_range
from ..models import GrowthEntry, MemberTier, ReevaluationRun, Tier, TierChange
from ..selectors import member_window_sums, sums_from_row, tier_list, window_aggregates
from .changes import tier_changes_record_bulk, tier_label

JOB = "tiers.reevaluate"
DEFAULT_CHUNK = 10_000


def chunk_sums(*, pk_from: int, pk_to: int, windows: list[int], as_of: datetime) -> dict[int, rules.Sums]:
    """Sums per window for every due member in [pk_from, pk_to]: one grouped query."""
    if not windows:
        return {}
    rows = (
        GrowthEntry.objects.filter(
            member_id__gte=pk_from,
            member_id__lte=pk_to,
            member__tier_state__evaluate_at__lte=as_of,
            occurred_at__gte=rules.months_before(as_of, max(windows)),
            occurred_at__lte=as_of,
        )
        .values("member_id")
        .annotate(**window_aggregates(windows, as_of))
        .order_by()
    )
    return {row["member_id"]: sums_from_row(row, windows) for row in rows}


def _apply(
    pairs: list[tuple[MemberTier, rules.Decision]], *, tiers_by_pk: dict[int, Tier], as_of: datetime
) -> Counter:
    """Write the decisions of one chunk (caller holds the row locks, inside atomic)."""
    counts: Counter = Counter()
    groups: dict[tuple, list[int]] = defaultdict(list)
    changed: list[tuple[MemberTier, rules.Decision]] = []
    warned: list[tuple[MemberTier, rules.Decision]] = []
    for state, decision in pairs:
        current = tiers_by_pk[state.tier_id]
        outcome = decision.outcome
        counts["evaluated"] += 1
        counts[str(outcome)] += 1
        if outcome in (rules.Outcome.UPGRADED, rules.Outcome.DOWNGRADED):
            counts[f"{outcome}:{current.code}->{decision.tier.code}"] += 1
            groups[("tier", current.pk, decision.tier.pk)].append(state.pk)
            changed.append((state, decision))
        elif outcome == rules.Outcome.RETAINED:
            groups[("retained", current.pk)].append(state.pk)
        elif outcome == rules.Outcome.GRACE_STARTED:
            groups[("grace", current.pk)].append(state.pk)
            warned.append((state, decision))
        elif state.evaluate_at != decision.evaluate_at:  # in grace but due early (edited by hand)
            groups[("recheck", state.pk)].append(state.pk)
    decisions = {state.pk: decision for state, decision in pairs}
    for key, pks in groups.items():
        decision = decisions[pks[0]]
        if key[0] == "tier":
            fields = {"tier_id": key[2], "tier_since": as_of, "grace_until": None}
        elif key[0] == "retained":
            fields = {"grace_until": None}
        else:
            fields = {"grace_until": decision.grace_until}
        fields["evaluate_at"] = decision.evaluate_at
        for start in range(0, len(pks), 5000):
            MemberTier.objects.filter(pk__in=pks[start : start + 5000]).update(**fields)
    if changed or warned:
        User = get_user_model()
        members = User.objects.in_bulk([s.pk for s, _d in changed + warned])
        reasons: dict[tuple, str] = {}
        records = []
        for state, decision in changed:
            current = tiers_by_pk[state.tier_id]
            key = (decision.outcome, current.pk, decision.tier.pk)
            if key not in reasons:
                if decision.outcome == rules.Outcome.DOWNGRADED:
                    reasons[key] = _(
                        "Retention requirement of %(tier)s not met by the end of the grace period"
                    ) % {"tier": tier_label(current)}
                else:
                    reasons[key] = _("Qualified for %(tier)s at re-evaluation") % {
                        "tier": tier_label(decision.tier)
                    }
            records.append((members[state.pk], current, decision.tier, reasons[key]))
        tier_changes_record_bulk(changes=records, source=TierChange.Source.REEVALUATION, at=as_of)
        warnings: dict[tuple, tuple[str, str, dict]] = {}
        notices = []
        for state, decision in warned:
            tier, until = tiers_by_pk[state.tier_id], decision.grace_until
            key = (tier.pk, until)
            if key not in warnings:
                warnings[key] = _warning_text(tier=tier, until=until)
            title, body, data = warnings[key]
            notices.append(
                Notice(
                    member=members[state.pk],
                    kind="tier.retention_warning",
                    title=title,
                    body=body,
                    data=data,
                    dedupe_key=f"tiers.grace:{tier.code}:{until:%Y%m%d}",
                )
            )
        member_notify_bulk(items=notices, channels=("inbox", "email", "sms"))
    return counts


def _warning_text(*, tier: Tier, until: datetime) -> tuple[str, str, dict]:
    growth, spend = rules.retention_requirement(tier)
    need = []
    if growth is not None:
        need.append(_("growth value %(n)s") % {"n": growth})
    if spend is not None:
        need.append(_("spend %(n)s CNY") % {"n": spend})
    title = _("Keep your %(tier)s tier") % {"tier": tier_label(tier)}
    body = _(
        "You have not yet reached %(need)s in the last %(months)s months needed to keep %(tier)s. "
        "Reach it by %(date)s, or your tier will go down one level."
    ) % {
        "need": ", ".join(need),
        "months": tier.window_months,
        "tier": tier_label(tier),
        "date": timezone.localtime(until).strftime("%Y-%m-%d"),
    }
    return title, body, {"tier": tier.code, "grace_until": until.isoformat()}


def member_tier_reevaluate(*, member, as_of: datetime | None = None) -> rules.Decision | None:
    """The per-member rule (used for one member and as the reference the job must equal)."""
    as_of = as_of or timezone.now()
    tiers_all = tier_list(include_inactive=True)
    tiers = [t for t in tiers_all if t.is_active]
    with transaction.atomic():
        states = member_tier_lock_range(pk_from=member.pk, pk_to=member.pk, due_before=as_of)
        if not states:
            return None
        state = states[0]
        tiers_by_pk = {t.pk: t for t in tiers_all}
        sums = member_window_sums(member=member, windows=rules.windows_of(tiers), as_of=as_of)
        decision = member_tier_decide(
            state=state, tiers=tiers, tiers_by_pk=tiers_by_pk, sums=sums, as_of=as_of
        )
        _apply([(state, decision)], tiers_by_pk=tiers_by_pk, as_of=as_of)
    return decision


def member_tier_decide(
    *, state: MemberTier, tiers: list[Tier], tiers_by_pk: dict[int, Tier], sums: rules.Sums, as_of: datetime
) -> rules.Decision:
    return rules.reevaluation_decide(
        tiers=tiers, current=tiers_by_pk[state.tier_id], grace_until=state.grace_until, sums=sums, as_of=as_of
    )


def _start_run(as_of: datetime) -> ReevaluationRun | None:
    try:
        with transaction.atomic():
            return ReevaluationRun.objects.create(job=JOB, as_of=as_of)
    except IntegrityError:
        return None  # another worker started one this instant


def _process(run_pk: int, *, chunk_size: int, counts: Counter) -> None:
    tiers_all = tier_list(include_inactive=True)
    tiers = [t for t in tiers_all if t.is_active]
    tiers_by_pk = {t.pk: t for t in tiers_all}
    windows = rules.windows_of(tiers)
    while True:
        with transaction.atomic():
            run = ReevaluationRun.objects.select_for_update().get(pk=run_pk)
            if run.status == ReevaluationRun.Status.DONE:
                return
            as_of = run.as_of
            pks = list(
                MemberTier.objects.filter(member_id__gt=run.last_member_pk, evaluate_at__lte=as_of)
                .order_by("member_id")
                .values_list("member_id", flat=True)[:chunk_size]
            )
            if not pks:
                ReevaluationRun.objects.filter(pk=run_pk).update(
                    status=ReevaluationRun.Status.DONE, finished_at=timezone.now()
                )
                return
            lo, hi = pks[0], pks[-1]
            states = member_tier_lock_range(pk_from=lo, pk_to=hi, due_before=as_of)
            sums = chunk_sums(pk_from=lo, pk_to=hi, windows=windows, as_of=as_of)
            pairs = [
                (
                    s,
                    member_tier_decide(
                        state=s, tiers=tiers, tiers_by_pk=tiers_by_pk, sums=sums.get(s.pk, {}), as_of=as_of
                    ),
                )
                for s in states
            ]
            chunk_counts = _apply(pairs, tiers_by_pk=tiers_by_pk, as_of=as_of)
            chunk_counts["chunks"] += 1
            total = Counter(run.counts) + chunk_counts
            ReevaluationRun.objects.filter(pk=run_pk).update(last_member_pk=hi, counts=dict(total))
        counts.update(chunk_counts)
        del states, sums, pairs, pks


def tiers_reevaluate(*, now: datetime | None = None, chunk_size: int = DEFAULT_CHUNK) -> dict[str, int]:
    """Nightly job: resume an interrupted run if any, then evaluate everyone due `now`."""
    with job_run(JOB) as counts:
        interrupted = ReevaluationRun.objects.filter(job=JOB, status=ReevaluationRun.Status.RUNNING).first()
        if interrupted is not None:
            counts["resumed_runs"] += 1
            _process(interrupted.pk, chunk_size=chunk_size, counts=counts)
        run = _start_run(now or timezone.now())
        if run is not None:
            _process(run.pk, chunk_size=chunk_size, counts=counts)
        else:
            counts["skipped_concurrent"] += 1
        return dict(counts)
