"""Demo data for tiers: activity growth, paid memberships and a re-evaluation run.

Runs after the orders seeder (whose orders already recorded growth value through
growth_record), so tiers reflect realistic spend.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import PaidPlan
from .services import growth_record_for_activity, subscription_purchase, tiers_reevaluate


def seed_tiers(*, members: int, stdout, rng: random.Random) -> None:
    User = get_user_model()
    now = timezone.now()
    plans = list(PaidPlan.objects.filter(is_active=True).order_by("price"))
    pks = list(
        User.objects.filter(is_staff=False, status="active").order_by("pk").values_list("pk", flat=True)
    )
    if not pks:
        return
    active = rng.sample(pks, k=max(1, len(pks) // 10))
    activities = 0
    for pk in active:
        member = User.objects.get(pk=pk)
        for day in range(rng.randint(1, 20)):
            at = now - timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 12))
            event = rng.choice(["check_in", "check_in", "review", "share"])
            activities += growth_record_for_activity(
                member=member, event_type=event, event_id=f"demo-{event}-{pk}-{day}", occurred_at=at
            )
    bought = 0
    if plans:
        for pk in rng.sample(pks, k=max(1, len(pks) * 3 // 100)):
            plan = rng.choice(plans)
            start = now - timedelta(days=rng.randint(0, max(0, plan.duration_days - 1)))
            subscription_purchase(
                member=User.objects.get(pk=pk), plan=plan, payment_reference=f"demo-pay-{pk}", starts_at=start
            )
            bought += 1
    counts = tiers_reevaluate()
    stdout.write(f"  tiers: {activities} activity growth, {bought} paid memberships, re-evaluation {counts}")
