"""Issuing at scale: an operator's bulk issue to a filtered member list, and the monthly
tier entitlements. Both walk members in primary-key chunks, commit per chunk and are
idempotent through per-member source keys, so a crashed run simply runs again."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.jobs import job_run
from core.services import audit_log_record

from ..models import Coupon, CouponBulkIssue, CouponTemplate, TierCouponEntitlement
from ..upstream import member_tier_code
from .coupons import OUT_OF_STOCK, _assert_issuable, coupon_issue_many

logger = logging.getLogger(__name__)
User = get_user_model()

FILTER_KEYS = ("status", "channel", "region", "tier_codes", "member_ids")
CHUNK = 500


def _clean_filters(filters: dict) -> dict[str, list[str]]:
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise ApplicationError(
            "Unknown member filter.", errors={"filters": [f"Unknown: {', '.join(unknown)}"]}
        )
    cleaned: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", []):
            continue
        values = [value] if isinstance(value, str) else list(value)
        values = [str(v).strip() for v in values if str(v).strip()]
        if values:
            cleaned[key] = values
    statuses = cleaned.get("status", ["active"])
    bad = [s for s in statuses if s not in User.Status.values]
    if bad:
        raise ApplicationError("Unknown member status.", errors={"status": [f"Unknown: {', '.join(bad)}"]})
    cleaned["status"] = statuses
    return cleaned


def bulk_members_queryset(filters: dict):
    qs = User.objects.filter(is_staff=False, status__in=filters.get("status", ["active"]))
    if filters.get("channel"):
        qs = qs.filter(channel__in=filters["channel"])
    if filters.get("region"):
        qs = qs.filter(region__in=filters["region"])
    if filters.get("member_ids"):
        qs = qs.filter(member_id__in=filters["member_ids"])
    return qs


def coupon_bulk_issue_create(
    *, template: CouponTemplate, filters: dict, actor=None, note: str = "", enqueue: bool = True
) -> CouponBulkIssue:
    """Record an operator's bulk issue and queue the job that runs it (after commit)."""
    cleaned = _clean_filters(filters or {})
    _assert_issuable(template, timezone.now())
    with transaction.atomic():
        bulk = CouponBulkIssue.objects.create(
            template=template,
            filters=cleaned,
            note=note[:200],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_log_record(
            action="coupon.bulk_issue",
            actor_type="operator",
            actor_user=actor,
            target_type="benefits.couponbulkissue",
            target_id=str(bulk.pk),
            after={"template": template.code, "filters": cleaned},
            note=note,
        )
        if enqueue:

            def enqueue_rollback_unsafe() -> None:
                from ..tasks import bulk_issue

                try:
                    bulk_issue.delay(bulk.pk)
                except Exception:  # noqa: BLE001 - the operator can resume it from the admin
                    logger.exception("could not enqueue bulk issue %s", bulk.pk)

            transaction.on_commit(enqueue_rollback_unsafe)
    return bulk


def coupon_bulk_issue_resume(*, bulk: CouponBulkIssue, actor=None) -> bool:
    """Queue an unfinished bulk issue again (after a crash); it continues from its cursor."""
    if bulk.state == CouponBulkIssue.State.DONE:
        return False
    audit_log_record(
        action="coupon.bulk_issue_resume",
        actor_type="operator",
        actor_user=actor,
        target_type="benefits.couponbulkissue",
        target_id=str(bulk.pk),
    )

    def enqueue_rollback_unsafe() -> None:
        from ..tasks import bulk_issue

        bulk_issue.delay(bulk.pk)

    transaction.on_commit(enqueue_rollback_unsafe)
    return True


def coupon_bulk_issue_run(*, bulk_id: int, chunk_size: int = CHUNK) -> CouponBulkIssue:
    """Run (or resume) a bulk issue from its cursor. One coupon per member (source key
    `bulk:<id>`), so resuming never issues twice."""
    bulk = CouponBulkIssue.objects.select_related("template").get(pk=bulk_id)
    if bulk.state == CouponBulkIssue.State.DONE:
        return bulk
    CouponBulkIssue.objects.filter(pk=bulk.pk).update(state=CouponBulkIssue.State.RUNNING, error="")
    filters = bulk.filters or {}
    tier_codes = set(filters.get("tier_codes") or [])
    source_key = f"bulk:{bulk.pk}"
    cursor = bulk.cursor
    counts: Counter = Counter(bulk.counts or {})
    try:
        with job_run("benefits.bulk_issue") as run_counts:
            while True:
                members = list(
                    bulk_members_queryset(filters).filter(pk__gt=cursor).order_by("pk")[:chunk_size]
                )
                if not members:
                    break
                targets = [m for m in members if not tier_codes or member_tier_code(m) in tier_codes]
                counts["skipped_tier"] += len(members) - len(targets)
                with transaction.atomic():
                    outcomes = (
                        coupon_issue_many(
                            template=bulk.template,
                            requests=[(m, source_key) for m in targets],
                            source=Coupon.Source.OPERATOR,
                            source_ref=source_key,
                            actor=str(bulk.created_by or "operator"),
                        )
                        if targets
                        else []
                    )
                    for outcome in outcomes:
                        counts[outcome.result] += 1
                        run_counts[outcome.result] += 1
                    cursor = members[-1].pk
                    CouponBulkIssue.objects.filter(pk=bulk.pk).update(cursor=cursor, counts=dict(counts))
                if any(o.result == OUT_OF_STOCK for o in outcomes):
                    break
    except Exception as exc:
        CouponBulkIssue.objects.filter(pk=bulk.pk).update(
            state=CouponBulkIssue.State.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    CouponBulkIssue.objects.filter(pk=bulk.pk).update(
        state=CouponBulkIssue.State.DONE, finished_at=timezone.now(), counts=dict(counts)
    )
    bulk.refresh_from_db()
    return bulk


def month_key(now: datetime) -> str:
    return timezone.localtime(now).strftime("%Y-%m")


def tier_coupons_issue(*, now: datetime | None = None, chunk_size: int = CHUNK) -> Counter:
    """Issue this month's tier coupons: for every active entitlement, `quantity` coupons to
    each active member whose effective tier has that code. Source keys
    `tier:<entitlement>:<YYYY-MM>:<n>` make re-runs (and overlapping runs) no-ops."""
    now = now or timezone.now()
    month = month_key(now)
    entitlements = list(
        TierCouponEntitlement.objects.select_related("template").filter(
            is_active=True, template__is_active=True
        )
    )
    counts: Counter = Counter()
    entitlements = [e for e in entitlements if not (e.template.valid_until and e.template.valid_until <= now)]
    if not entitlements:
        return counts
    by_tier: dict[str, list[TierCouponEntitlement]] = defaultdict(list)
    for ent in entitlements:
        by_tier[ent.tier_code].append(ent)
    cursor = 0
    while True:
        members = list(
            User.objects.filter(is_staff=False, status=User.Status.ACTIVE, pk__gt=cursor).order_by("pk")[
                :chunk_size
            ]
        )
        if not members:
            break
        cursor = members[-1].pk
        requests: dict[int, list] = defaultdict(list)
        templates: dict[int, CouponTemplate] = {}
        for member in members:
            code = member_tier_code(member)
            for ent in by_tier.get(code or "", []):
                templates[ent.template_id] = ent.template
                requests[ent.template_id].extend(
                    (member, f"tier:{ent.pk}:{month}:{n}") for n in range(1, ent.quantity + 1)
                )
        counts["members"] += len(members)
        for template_id in sorted(requests):  # one template lock at a time, in pk order
            with transaction.atomic():
                outcomes = coupon_issue_many(
                    template=templates[template_id],
                    requests=requests[template_id],
                    source=Coupon.Source.TIER,
                    source_ref=f"tier:{month}",
                    actor="tier entitlement",
                    now=now,
                )
            for outcome in outcomes:
                counts[outcome.result] += 1
    return counts
