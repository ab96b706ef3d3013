"""Money/currency/points serializer fields and cursor pagination bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework import serializers

from core.api.fields import CurrencyField, MoneyField, PointsField
from core.services import audit_log_record

from .test_auth import assert_problem


class Sample(serializers.Serializer):
    amount = MoneyField()
    currency = CurrencyField()
    points = PointsField(required=False)
    delta = MoneyField(min_value=None, required=False)


def valid(data) -> dict:
    s = Sample(data=data)
    assert s.is_valid(), s.errors
    return s.validated_data


def errors(data) -> dict:
    s = Sample(data=data)
    assert not s.is_valid()
    return s.errors


@pytest.mark.parametrize(
    ("given", "expected"), [("199", "199.00"), ("199.5", "199.50"), (199.99, "199.99"), (7, "7.00")]
)
def test_money_input_and_string_output(given, expected):
    data = valid({"amount": given})
    assert data["amount"] == Decimal(expected)
    assert Sample(data).data["amount"] == expected


@pytest.mark.parametrize("given", ["1.234", 0.1 + 0.2, True, "NaN", "abc", "-1.00", None, [1]])
def test_money_refuses_bad_amounts(given):
    assert "amount" in errors({"amount": given})


def test_money_may_allow_negatives():
    assert valid({"amount": "1", "delta": "-5.5"})["delta"] == Decimal("-5.50")


def test_currency_defaults_and_validates():
    assert valid({"amount": "1"})["currency"] == "CNY"
    assert valid({"amount": "1", "currency": "usd"})["currency"] == "USD"
    for bad in ("XYZ", "CN", "CNYY", 156):
        assert "currency" in errors({"amount": "1", "currency": bad})
    restricted = CurrencyField(allowed=["CNY"])
    with pytest.raises(serializers.ValidationError):
        restricted.run_validation("USD")


def test_points_are_json_integers_only():
    assert valid({"amount": "1", "points": 10})["points"] == 10
    for bad in ("10", 10.0, 1.5, True, 10**13):
        assert "points" in errors({"amount": "1", "points": bad})


@pytest.mark.django_db
def test_cursor_pagination_pages_and_bounds(platform_urls, make_api_client):
    client = make_api_client(scopes=["analytics:read"])
    for i in range(5):
        audit_log_record(action=f"a{i}", actor_type="system")
    first = client.get("/api/v1/_test/rows", {"page_size": 2})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"results", "next"} and len(body["results"]) == 2
    second = client.get(body["next"])
    assert second.status_code == 200
    assert {r["id"] for r in second.json()["results"]}.isdisjoint({r["id"] for r in body["results"]})
    for bad in ("201", "0", "-1", "many"):
        problem = assert_problem(client.get("/api/v1/_test/rows", {"page_size": bad}), 400, "invalid")
        assert "page_size" in problem["errors"]
    assert client.get("/api/v1/_test/rows", {"page_size": "200"}).status_code == 200
    problem = assert_problem(client.get("/api/v1/_test/rows", {"cursor": "garbage"}), 400, "invalid")
    assert "cursor" in problem["errors"]
