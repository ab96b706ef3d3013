"""Demo coupons and trials: a few templates, tier entitlements, coupons in wallets (some
used, some expired) and an open and a drawn free trial.

Templates, entitlements, redemptions, expiry and trials go through services. Issuing is the
hot path (about 0.8 coupons per member, plus the month's tier coupons), so it is written here
in bulk, per chunk of members in pk order, with exactly what coupon_issue_many writes: the
same eligibility checks (existing source key, active member, per-member limit, stock) under
the template lock, coupons, ISSUED events, the template's issued_count and one
`coupon.issued` outbox event per coupon (delivered by the webhook sweep rather than one
queued task each). Redemptions use coupon_redeem for a bounded number of coupons.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from core.outbox import outbox_emit_bulk

from .lock_objects import coupon_template_lock
from .models import Coupon, CouponEvent, CouponTemplate, TierCouponEntitlement, TrialProduct
from .services import (
    coupon_redeem,
    coupon_template_create,
    coupons_expire_due,
    trial_apply,
    trial_draw,
    trial_product_create,
)
from .services.coupons import _assert_issuable, coupon_payload, coupon_validity
from .services.issuance import month_key

CHUNK = 2000  # members per pk range
MAX_REDEEMED = 1000  # coupon_redeem calls (one service call each)
D = Decimal
TEMPLATES = [
    {
        "code": "welcome_20",
        "name": "新人满99减20",
        "kind": "amount_off",
        "threshold": D("99"),
        "amount": D("20"),
    },
    {"code": "save_50", "name": "满299减50", "kind": "amount_off", "threshold": D("299"), "amount": D("50")},
    {
        "code": "beauty_85",
        "name": "美妆85折券",
        "kind": "percent_off",
        "rate": D("0.850"),
        "cap": D("60"),
        "categories": ["beauty"],
    },
    {"code": "free_ship", "name": "包邮券", "kind": "free_shipping", "threshold": D("39")},
    {"code": "cash_10", "name": "10元现金券", "kind": "cash_voucher", "amount": D("10")},
    {
        "code": "gold_monthly_30",
        "name": "金卡月度满200减30",
        "kind": "amount_off",
        "threshold": D("200"),
        "amount": D("30"),
        "tier_codes": ["gold", "diamond"],
        "per_member_limit": None,
    },
    {
        "code": "double11_100",
        "name": "双11满1000减100",
        "kind": "amount_off",
        "threshold": D("1000"),
        "amount": D("100"),
        "stacking": "exclusive",
        "total_quantity": 500,
    },
]


def _trial_get_or_create(*, sku: str, defaults: dict) -> tuple[TrialProduct, bool]:
    existing = TrialProduct.objects.filter(sku=sku).first()
    if existing is not None:
        return existing, False
    return trial_product_create(sku=sku, **defaults), True


def _issue_bulk(*, template: CouponTemplate, requests: list, source: str, source_ref: str, actor: str, now):
    """coupon_issue_many's writes for many (member, source_key[, issued_at]) requests, in bulk:
    each coupon as coupon_issue_many(now=issued_at) would issue it (default `now`). Returns
    the issued coupons (their template and member set) and counts per outcome."""
    counts: Counter = Counter()
    if not requests:
        return [], counts
    with transaction.atomic():
        locked = coupon_template_lock(pk=template.pk)
        _assert_issuable(locked, now)
        member_pks = {r[0].pk for r in requests}
        keys = {r[1] for r in requests if r[1]}
        existing = set()
        if keys:
            existing = set(
                Coupon.objects.filter(
                    template=locked, member_id__in=member_pks, source_key__in=keys
                ).values_list("member_id", "source_key")
            )
        held: Counter = Counter()
        if locked.per_member_limit is not None:
            held.update(
                dict(
                    Coupon.objects.filter(template=locked, member_id__in=member_pks)
                    .exclude(status=Coupon.Status.REVOKED)
                    .values_list("member_id")
                    .annotate(n=Count("id"))
                    .values_list("member_id", "n")
                )
            )
        remaining = locked.remaining
        to_create = []
        for member, key, *at in requests:
            issued_at = at[0] if at else now
            if key and (member.pk, key) in existing:
                counts["existing"] += 1
            elif member.status != "active":
                counts["member_inactive"] += 1
            elif locked.per_member_limit is not None and held[member.pk] >= locked.per_member_limit:
                counts["limit_reached"] += 1
            elif remaining is not None and remaining <= 0:
                counts["out_of_stock"] += 1
            else:
                valid_from, valid_until = coupon_validity(locked, issued_at)
                to_create.append(
                    Coupon(
                        template=locked,
                        member=member,
                        valid_from=valid_from,
                        valid_until=valid_until,
                        issued_at=issued_at,
                        issued_by=source,
                        source_ref=source_ref[:100],
                        source_key=key,
                        status_changed_at=issued_at,
                    )
                )
                held[member.pk] += 1
                if key:
                    existing.add((member.pk, key))
                if remaining is not None:
                    remaining -= 1
        if not to_create:
            return [], counts
        Coupon.objects.bulk_create(to_create, batch_size=1000)
        if not all(c.pk for c in to_create):  # backends without RETURNING ids
            by_code = dict(
                Coupon.objects.filter(code__in=[c.code for c in to_create]).values_list("code", "pk")
            )
            for coupon in to_create:
                coupon.pk = by_code[coupon.code]
        CouponTemplate.objects.filter(pk=locked.pk).update(issued_count=F("issued_count") + len(to_create))
        CouponEvent.objects.bulk_create(
            [
                CouponEvent(
                    coupon=c, kind=CouponEvent.Kind.ISSUED, actor=actor[:200], note=source, created_at=now
                )
                for c in to_create
            ],
            batch_size=1000,
        )
        outbox_emit_bulk(type="coupon.issued", items=[coupon_payload(c) for c in to_create])
    counts["issued"] += len(to_create)
    return to_create, counts


def _member_chunks(User, chunk: int = CHUNK):
    """Active members (pk, member_id, status only), one pk range at a time."""
    last = 0
    while True:
        rows = list(
            User.objects.filter(is_staff=False, status="active", pk__gt=last)
            .only("id", "member_id", "status")
            .order_by("pk")[:chunk]
        )
        if not rows:
            return
        last = rows[-1].pk
        yield rows


def _effective_tier_codes(members: list, *, now) -> dict[int, str | None]:
    """Each member's effective tier code (as tiers.selectors.tier_effective), for a chunk at once."""
    from tiers.models import MemberTier, Subscription
    from tiers.selectors import tier_default

    default = tier_default()
    pks = [m.pk for m in members]
    states = {
        s.pk: s
        for s in MemberTier.objects.select_related("tier", "override_tier").filter(
            member_id__gte=pks[0], member_id__lte=pks[-1]
        )
    }
    paid: dict[int, object] = {}
    for sub in Subscription.objects.select_related("plan__tier").filter(
        member_id__gte=pks[0],
        member_id__lte=pks[-1],
        status=Subscription.Status.ACTIVE,
        starts_at__lte=now,
        ends_at__gt=now,
        plan__tier__isnull=False,
    ):
        best = paid.get(sub.member_id)
        if best is None or sub.plan.tier.rank > best.rank:
            paid[sub.member_id] = sub.plan.tier
    codes: dict[int, str | None] = {}
    for pk in pks:
        state = states.get(pk)
        if state is not None and state.override_active(now):
            tier = state.override_tier
        else:
            tier = state.tier if state is not None else default
            plan_tier = paid.get(pk)
            if plan_tier is not None and (tier is None or plan_tier.rank > tier.rank):
                tier = plan_tier
        codes[pk] = tier.code if tier is not None else None
    return codes


def _tier_coupons(*, User, now) -> Counter:
    """This month's tier coupons, as tier_coupons_issue gives them (same source keys, so the
    monthly job finds them issued), with the effective tiers of a chunk read at once."""
    month = month_key(now)
    counts: Counter = Counter()
    entitlements = [
        e
        for e in TierCouponEntitlement.objects.select_related("template").filter(
            is_active=True, template__is_active=True
        )
        if not (e.template.valid_until and e.template.valid_until <= now)
    ]
    if not entitlements:
        return counts
    by_tier: dict[str, list[TierCouponEntitlement]] = defaultdict(list)
    for ent in entitlements:
        by_tier[ent.tier_code].append(ent)
    for members in _member_chunks(User):
        codes = _effective_tier_codes(members, now=now)
        requests: dict[int, list] = defaultdict(list)
        templates: dict[int, CouponTemplate] = {}
        for member in members:
            for ent in by_tier.get(codes[member.pk] or "", []):
                templates[ent.template_id] = ent.template
                requests[ent.template_id].extend(
                    (member, f"tier:{ent.pk}:{month}:{n}") for n in range(1, ent.quantity + 1)
                )
        counts["members"] += len(members)
        for template_id in sorted(requests):
            _coupons, c = _issue_bulk(
                template=templates[template_id],
                requests=requests[template_id],
                source=Coupon.Source.TIER,
                source_ref=f"tier:{month}",
                actor="tier entitlement",
                now=now,
            )
            counts.update(c)
    return counts


CAMPAIGN_CODES = ("welcome_20", "save_50", "beauty_85", "free_ship", "cash_10")


def seed_benefits(*, members: int, stdout, rng: random.Random) -> None:
    User = get_user_model()
    now = timezone.now()
    templates = {}
    for spec in TEMPLATES:
        template = CouponTemplate.objects.filter(code=spec["code"]).first()
        if template is None:
            fields = {"validity": "relative", "valid_days": 30, "per_member_limit": 3, **spec}
            template = coupon_template_create(**fields)
        templates[template.code] = template
    for tier_code, code, qty in (("gold", "gold_monthly_30", 1), ("diamond", "gold_monthly_30", 2)):
        TierCouponEntitlement.objects.get_or_create(
            tier_code=tier_code, template=templates[code], defaults={"quantity": qty}
        )
    # A third of the active members took part in the campaigns; each got half of the coupons.
    # Redemptions: 30% of the coupons in force, capped at MAX_REDEEMED service calls.
    redeem_share = min(0.3, MAX_REDEEMED / max(1, members * 5 // 6))
    issued = used = 0
    total_active = 0
    applicants: list[int] = []  # reservoir sample of 40 active members, for the trials
    for chunk in _member_chunks(User):
        for m in chunk:
            total_active += 1
            if len(applicants) < 40:
                applicants.append(m.pk)
            elif (j := rng.randrange(total_active)) < 40:
                applicants[j] = m.pk
        sample = [m for m in chunk if rng.random() < 1 / 3]
        for code in CAMPAIGN_CODES:
            chosen = [m for m in sample if rng.random() < 0.5]
            coupons, _counts = _issue_bulk(
                template=templates[code],
                requests=[(m, "demo", now - timedelta(days=rng.randint(0, 40))) for m in chosen],
                source="campaign",
                source_ref="demo",
                actor="",
                now=now,
            )
            issued += len(coupons)
            for coupon in coupons:
                if (
                    used < MAX_REDEEMED
                    and rng.random() < redeem_share
                    and coupon.valid_until > now
                    and coupon.valid_from <= now
                ):
                    amount = coupon.template.threshold + D(rng.randint(0, 200))
                    coupon_redeem(code=coupon.code, order_id=f"demo-{coupon.code}", amount=amount, now=now)
                    used += 1
    if not total_active:
        return
    expired = coupons_expire_due(now=now)
    tier_counts = _tier_coupons(User=User, now=now)
    trial_open, _ = _trial_get_or_create(
        sku="TRY-TEA-01",
        defaults={
            "name": "明前龙井试用装",
            "description": "50g 明前龙井，申请即有机会免费试用。",
            "quantity": 20,
            "apply_from": now - timedelta(days=3),
            "apply_until": now + timedelta(days=7),
            "report_points": 100,
        },
    )
    trial_done, created = _trial_get_or_create(
        sku="TRY-CREAM-01",
        defaults={
            "name": "保湿面霜体验装",
            "description": "30ml 保湿面霜体验装。",
            "quantity": 10,
            "apply_from": now - timedelta(days=20),
            "apply_until": now - timedelta(days=5),
            "report_points": 200,
        },
    )
    rng.shuffle(applicants)
    for pk in applicants[:20]:
        if not trial_open.applications.filter(member_id=pk).exists():
            trial_apply(product=trial_open, member=User.objects.get(pk=pk), reason="想试试")
    if created:
        applied_at = now - timedelta(days=10)  # inside its (past) application window
        for pk in applicants[20:]:
            trial_apply(product=trial_done, member=User.objects.get(pk=pk), reason="想试试", now=applied_at)
        trial_draw(product=trial_done, now=now)
    stdout.write(
        f"  benefits: {issued} coupons issued, {used} used, {expired} expired, tier coupons {dict(tier_counts)}"
    )
