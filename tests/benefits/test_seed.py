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
