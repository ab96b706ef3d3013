"""Fulfilment of points-mall rewards by kind: higher apps plug in without being imported.

benefits registers kind "coupon" from its AppConfig.ready():

    from points.rewards import register_fulfiller
    register_fulfiller("coupon", issue_coupon_for_redemption)

A fulfiller is called as func(*, member, reward, redemption) INSIDE the redemption's
transaction (after the points are taken and the stock decremented); whatever it raises rolls
the whole redemption back. It may return a dict that is stored on the redemption
(`fulfilment`, e.g. {"coupon_code": "..."}).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Fulfiller = Callable[..., dict[str, Any] | None]
_fulfillers: dict[str, Fulfiller] = {}


def register_fulfiller(kind: str, func: Fulfiller) -> None:
    _fulfillers[kind] = func


def unregister_fulfiller(kind: str) -> None:
    _fulfillers.pop(kind, None)


def fulfiller_for(kind: str) -> Fulfiller | None:
    return _fulfillers.get(kind)
