from decimal import Decimal

import pytest

from benefits import upstream


@pytest.fixture
def no_tier(monkeypatch):
    """A member without a tier (rate 1, no benefits) unless a test sets one."""
    state = {"code": None, "rate": Decimal("1"), "benefits": {}}

    def member_tier(member):
        return upstream.TierInfo(
            state["code"], state["code"] or "", state["code"] or "", state["rate"], dict(state["benefits"])
        )

    monkeypatch.setattr(upstream, "member_tier", member_tier)
    monkeypatch.setattr(upstream, "member_tier_code", lambda member: state["code"])
    return state
