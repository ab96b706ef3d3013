"""Test data for tiers, made through services where value moves."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

_counter = itertools.count(1)


def make_member(**extra):
    n = next(_counter)
    User = get_user_model()
    return User.objects.create_user(phone=f"137{n:08d}", email=f"tier{n}@example.com", **extra)


def make_staff(**extra):
    n = next(_counter)
    User = get_user_model()
    return User.objects.create_user(
        email=f"tierop{n}@example.com", password="x-pass-123456", is_staff=True, is_superuser=True, **extra
    )


def grow(
    member,
    growth: int,
    *,
    at: datetime | None = None,
    spend: Decimal | None = None,
    orders: int = 0,
    source_type: str = "order",
    source_id: str | None = None,
):
    from tiers.services import growth_record

    return growth_record(
        member=member,
        growth=growth,
        spend=spend if spend is not None else Decimal(max(growth, 0)),
        orders=orders,
        source_type=source_type,
        source_id=source_id or f"src-{next(_counter)}",
        occurred_at=at or timezone.now() - timedelta(minutes=1),
    )
