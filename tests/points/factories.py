"""Test data for points, made through services where value moves."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

_counter = itertools.count(1)


def make_member(**extra):
    n = next(_counter)
    User = get_user_model()
    return User.objects.create_user(phone=f"139{n:08d}", email=f"pts{n}@example.com", **extra)


def make_staff(**extra):
    n = next(_counter)
    User = get_user_model()
    return User.objects.create_user(
        email=f"op{n}@example.com", password="x-pass-123456", is_staff=True, **extra
    )


def give_points(member, points: int, source_id: str | None = None):
    from points.services import points_award

    return points_award(
        member=member, points=points, source_type="test", source_id=source_id or f"gift-{next(_counter)}"
    )
