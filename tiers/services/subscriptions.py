"""Paid membership (付费会员): purchases recorded from the shop, stacking, expiry, reminders."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, Conflict
from core.jobs import job_run
from members.models import User
from members.services import member_assert_can_transact, member_notify

from ..lock_objects import member_tier_lock, subscriptions_lock
from ..models import PaidPlan, Subscription, TierChange
from ..selectors import _effective, growth_settings, member_tier_state, subscriptions_current, tier_effective
from .changes import tier_change_record

CHUNK = 1000


def subscription_purchase(
    *,
    member: User,
    plan: PaidPlan | str,
    payment_reference: str,
    starts_at: datetime | None = None,
    partner=None,
    auto_renew: bool | None = None,
) -> tuple[Subscription, bool]:
    """Record a paid plan bought in the shop. Returns (subscription, created).

    Idempotent by payment_reference. A purchase while a period is running starts when the
    last queued period ends (periods stack). While in force the plan grants its tier on top
    of the earned tier; a change of the effective tier is recorded and notified.
    """
    payment_reference = (payment_reference or "").strip()
    if not payment_reference:
        raise ApplicationError("payment_reference is required.", errors={"payment_reference": ["Required."]})
    existing = (
        Subscription.objects.select_related("plan", "plan__tier")
        .filter(payment_reference=payment_reference)
        .first()
    )
    if existing is not None:
        return _replay(existing, member=member, plan=plan)
    if isinstance(plan, str):
        plan_obj = PaidPlan.objects.select_related("tier").filter(code=plan, is_active=True).first()
        if plan_obj is None:
            raise ApplicationError(
                f"No paid plan {plan!r} on sale.", code="plan_not_found", errors={"plan": ["Unknown plan."]}
            )
        plan = plan_obj
    elif not plan.is_active:
        raise ApplicationError(
            "This plan is not on sale.", code="plan_not_found", errors={"plan": ["Not on sale."]}
        )
    if starts_at is not None and timezone.is_naive(starts_at):
        raise ApplicationError(
            "starts_at needs a UTC offset.", errors={"starts_at": ["Include a time zone offset."]}
        )
    member_assert_can_transact(member)
    now = timezone.now()
    with transaction.atomic():
        member_tier_lock(member=member)  # one purchase at a time per member
        before = tier_effective(member=member, now=now)
        start = starts_at or now
        queued_end = Subscription.objects.filter(
            member_id=member.pk, status=Subscription.Status.ACTIVE, ends_at__gt=now
        ).aggregate(end=Max("ends_at"))["end"]
        if queued_end is not None and queued_end > start:
            start = queued_end
        if start + timedelta(days=plan.duration_days) <= now:
            raise ApplicationError(
                "This period would already be over.",
                errors={"starts_at": ["Too far in the past: the period would already have ended."]},
            )
        try:
            with transaction.atomic():
                sub = Subscription.objects.create(
                    member_id=member.pk,
                    plan=plan,
                    partner=partner,
                    payment_reference=payment_reference,
                    price=plan.price,
                    starts_at=start,
                    ends_at=start + timedelta(days=plan.duration_days),
                    auto_renew=plan.auto_renew if auto_renew is None else (auto_renew and plan.auto_renew),
                )
        except IntegrityError:
            existing = Subscription.objects.select_related("plan").get(payment_reference=payment_reference)
            return _replay(existing, member=member, plan=plan)
        after = tier_effective(member=member, now=now)
        if after != before:
            tier_change_record(
                member=member,
                from_tier=before,
                to_tier=after,
                effective_tier=after,
                source=TierChange.Source.SUBSCRIPTION,
                reason=_("Paid membership %(plan)s started") % {"plan": plan.name},
                at=now,
            )
        member_notify(
            member=member,
            kind="tier.subscription_started",
            title=_("Your %(plan)s membership is active") % {"plan": plan.name},
            body=_("Valid from %(start)s to %(end)s.")
            % {
                "start": timezone.localtime(sub.starts_at).strftime("%Y-%m-%d"),
                "end": timezone.localtime(sub.ends_at).strftime("%Y-%m-%d"),
            },
            dedupe_key=f"tiers.sub_started:{sub.pk}",
        )
    return sub, True


def _replay(existing: Subscription, *, member: User, plan) -> tuple[Subscription, bool]:
    plan_code = plan if isinstance(plan, str) else plan.code
    if existing.member_id != member.pk or existing.plan.code != plan_code:
        raise Conflict(
            "This payment_reference was already used for another purchase.",
            code="payment_reference_reused",
            errors={"payment_reference": ["Already used for another member or plan."]},
        )
    return existing, False


def subscription_cancel(*, subscription: Subscription, reason: str = "", actor: str = "") -> Subscription:
    """Stop a subscription now (refunded purchase); falls back to the earned tier."""
    member = subscription.member
    now = timezone.now()
    with transaction.atomic():
        member_tier_lock(member=member)
        subscriptions_lock(member=member)
        subscription.refresh_from_db()
        if subscription.status != Subscription.Status.ACTIVE:
            return subscription
        before = tier_effective(member=member, now=now)
        Subscription.objects.filter(pk=subscription.pk).update(
            status=Subscription.Status.CANCELLED, ended_at=now
        )
        after = tier_effective(member=member, now=now)
        if after != before:
            tier_change_record(
                member=member,
                from_tier=before,
                to_tier=after,
                effective_tier=after,
                source=TierChange.Source.SUBSCRIPTION,
                reason=reason or _("Paid membership %(plan)s cancelled") % {"plan": subscription.plan.name},
                actor=actor,
                at=now,
            )
    subscription.refresh_from_db()
    return subscription


def _expire_member(*, member: User, now: datetime, counts: Counter) -> None:
    with transaction.atomic():
        member_tier_lock(member=member)
        subs = [s for s in subscriptions_lock(member=member) if s.status == Subscription.Status.ACTIVE]
        ending = [s for s in subs if s.ends_at <= now]
        if not ending:
            return
        current = subscriptions_current(member=member, now=now)
        state = member_tier_state(member=member)
        before = _effective(state, current + ending, now)
        Subscription.objects.filter(pk__in=[s.pk for s in ending]).update(
            status=Subscription.Status.EXPIRED, ended_at=now
        )
        counts["expired"] += len(ending)
        after = _effective(state, current, now)
        last = max(ending, key=lambda s: s.ends_at)
        if after != before:
            counts[f"fell_back:{before.code if before else '-'}->{after.code if after else '-'}"] += 1
            tier_change_record(
                member=member,
                from_tier=before,
                to_tier=after,
                effective_tier=after,
                source=TierChange.Source.SUBSCRIPTION,
                reason=_("Paid membership %(plan)s ended") % {"plan": last.plan.name},
                at=now,
            )
        if not any(s.ends_at > now for s in subs):
            member_notify(
                member=member,
                kind="tier.subscription_expired",
                title=_("Your %(plan)s membership has ended") % {"plan": last.plan.name},
                body=_("Renew in the shop to keep its benefits."),
                dedupe_key=f"tiers.sub_expired:{last.pk}",
            )


def subscriptions_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Hourly job: expire ended subscriptions, remind auto-renew members, end lapsed overrides."""
    from .overrides import tier_overrides_expire

    now = now or timezone.now()
    with job_run("tiers.expire_subscriptions") as counts:
        last = 0
        while True:
            member_pks = list(
                Subscription.objects.filter(
                    status=Subscription.Status.ACTIVE, ends_at__lte=now, member_id__gt=last
                )
                .order_by("member_id")
                .values_list("member_id", flat=True)
                .distinct()[:CHUNK]
            )
            if not member_pks:
                break
            for member in User.objects.filter(pk__in=member_pks).order_by("pk"):
                _expire_member(member=member, now=now, counts=counts)
            last = member_pks[-1]
        counts["reminded"] += _remind_renewals(now=now)
        counts["overrides_ended"] += tier_overrides_expire(now=now)
        return dict(counts)


def _remind_renewals(*, now: datetime) -> int:
    days = growth_settings().renewal_reminder_days
    horizon = now + timedelta(days=days)
    sent = 0
    last = 0
    while True:
        batch = list(
            Subscription.objects.select_related("plan", "member")
            .filter(
                pk__gt=last,
                status=Subscription.Status.ACTIVE,
                auto_renew=True,
                reminded_at__isnull=True,
                ends_at__gt=now,
                ends_at__lte=horizon,
            )
            .order_by("pk")[:CHUNK]
        )
        if not batch:
            return sent
        for sub in batch:
            with transaction.atomic():
                queued = Subscription.objects.filter(
                    member_id=sub.member_id, status=Subscription.Status.ACTIVE, ends_at__gt=sub.ends_at
                ).exists()
                if not queued:
                    member_notify(
                        member=sub.member,
                        kind="tier.subscription_renewal",
                        title=_("Your %(plan)s membership renews soon") % {"plan": sub.plan.name},
                        body=_("It ends on %(end)s and will renew automatically for %(price)s CNY.")
                        % {
                            "end": timezone.localtime(sub.ends_at).strftime("%Y-%m-%d"),
                            "price": sub.plan.price,
                        },
                        channels=("inbox", "sms"),
                        dedupe_key=f"tiers.sub_renew:{sub.pk}",
                    )
                    sent += 1
                Subscription.objects.filter(pk=sub.pk).update(reminded_at=now)
        last = batch[-1].pk
