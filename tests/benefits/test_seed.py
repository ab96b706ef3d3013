import random
from io import StringIO

import pytest

from benefits.models import Coupon, CouponTemplate, TrialApplication
from benefits.seed import seed_benefits

from .factories import make_member

pytestmark = pytest.mark.django_db


def test_demo_seeder_creates_templates_coupons_and_trials():
    for _ in range(30):
        make_member()
    out = StringIO()
    seed_benefits(members=30, stdout=out, rng=random.Random(1))
    assert CouponTemplate.objects.count() == 7
    assert Coupon.objects.exists() and TrialApplication.objects.exists()
    assert "coupons issued" in out.getvalue()
    seed_benefits(members=30, stdout=out, rng=random.Random(2))  # runs again without errors


def _outcome_counts(outcomes) -> dict:
    counts: dict = {}
    for outcome in outcomes:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return counts


def test_bulk_issue_gives_the_outcomes_of_coupon_issue_many():
    """Stock, per-member limit, inactive members and repeated source keys: same as the service."""
    from django.utils import timezone

    from benefits.seed import _issue_bulk
    from benefits.services import coupon_issue_many
    from core.models import OutboxEvent

    from .factories import make_template

    now = timezone.now()
    results = []
    for issue in ("service", "bulk"):
        template = make_template(total_quantity=4, per_member_limit=2)
        members = [make_member() for _ in range(4)]
        members[3].status = "frozen"
        members[3].save(update_fields=["status"])
        requests = [(m, key) for m in members for key in ("a", "b", "c")] + [(members[0], "a")]
        if issue == "service":
            counts = _outcome_counts(
                coupon_issue_many(template=template, requests=requests, source="campaign", now=now)
            )
        else:
            before = OutboxEvent.objects.filter(type="coupon.issued").count()
            _coupons, counts = _issue_bulk(
                template=template, requests=requests, source="campaign", source_ref="", actor="", now=now
            )
            counts = dict(counts)
            assert OutboxEvent.objects.filter(type="coupon.issued").count() - before == counts["issued"]
        template.refresh_from_db()
        assert template.issued_count == Coupon.objects.filter(template=template).count() == 4
        results.append(counts)
    assert results[0] == results[1]
