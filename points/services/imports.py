"""Bulk import of historical orders (API orders:import and `manage.py import_orders`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.dateparse import parse_datetime

from core.errors import ApplicationError

from ..models import Order
from .behaviour import _resolve_members
from .orders import order_record, order_response_body

MAX_IMPORT = 1000
CSV_COLUMNS = [
    "order_id",
    "member",
    "amount",
    "currency",
    "paid_at",
    "channel",
    "store_id",
    "sku",
    "category",
    "quantity",
    "unit_price",
]


def orders_import(*, partner, orders: list[dict], actor=None) -> list[dict]:
    """Record up to 1,000 validated orders, each all-or-nothing (its own savepoint).

    Members and already-known order ids are looked up for the whole batch at once and the
    active earning rules are read once per day of payment. Returns one result per order:
    {order_id, status: created|duplicate|rejected, ...body or errors}.
    """
    if len(orders) > MAX_IMPORT:
        raise ApplicationError(
            f"At most {MAX_IMPORT} orders per import.", errors={"orders": [f"At most {MAX_IMPORT}."]}
        )
    members = _resolve_members(partner=partner, refs=[o["member"] for o in orders])
    known = set(
        Order.objects.filter(partner=partner, order_id__in=[o["order_id"] for o in orders]).values_list(
            "order_id", flat=True
        )
    )
    rules_cache: dict = {}
    results: list[dict] = []
    for data in orders:
        order_id = data["order_id"]
        if order_id in known:
            results.append({"order_id": order_id, "status": "duplicate"})
            continue
        member = members.get(data["member"])
        if member is None:
            results.append(
                {
                    "order_id": order_id,
                    "status": "rejected",
                    "code": "member_not_found",
                    "errors": {"member": ["Unknown member."]},
                }
            )
            continue
        try:
            with transaction.atomic():
                outcome = order_record(
                    partner=partner,
                    order_id=order_id,
                    member=member,
                    amount=data["amount"],
                    currency=data.get("currency") or "CNY",
                    items=data.get("items") or [],
                    channel=data.get("channel") or "",
                    store_id=data.get("store_id") or "",
                    paid_at=data["paid_at"],
                    actor=actor,
                    imported=True,
                    rules_cache=rules_cache,
                )
        except ApplicationError as exc:
            results.append(
                {
                    "order_id": order_id,
                    "status": "rejected",
                    "code": exc.code,
                    "errors": exc.errors or {"non_field_errors": [exc.message]},
                }
            )
            continue
        known.add(order_id)
        results.append(
            {"status": "created" if outcome.created else "duplicate", **order_response_body(outcome.order)}
        )
    return results


class CsvError(ValueError):
    pass


def _parse_row(line: int, row: dict) -> tuple[dict, dict]:
    missing = [c for c in ("order_id", "member", "amount", "paid_at") if not (row.get(c) or "").strip()]
    if missing:
        raise CsvError(f"line {line}: missing {', '.join(missing)}")
    try:
        amount = Decimal(row["amount"].strip())
    except InvalidOperation:
        raise CsvError(f"line {line}: amount {row['amount']!r} is not a number")
    paid_at = parse_datetime(row["paid_at"].strip())
    if paid_at is None or paid_at.tzinfo is None:
        raise CsvError(f"line {line}: paid_at {row['paid_at']!r} needs ISO 8601 with an offset")
    order = {
        "order_id": row["order_id"].strip(),
        "member": row["member"].strip(),
        "amount": amount,
        "currency": (row.get("currency") or "CNY").strip() or "CNY",
        "paid_at": paid_at,
        "channel": (row.get("channel") or "").strip(),
        "store_id": (row.get("store_id") or "").strip(),
        "items": [],
    }
    item = {}
    if (row.get("sku") or "").strip():
        try:
            item = {
                "sku": row["sku"].strip(),
                "category": (row.get("category") or "").strip(),
                "quantity": int((row.get("quantity") or "1").strip()),
                "unit_price": Decimal((row.get("unit_price") or "0").strip()),
            }
        except (ValueError, InvalidOperation):
            raise CsvError(f"line {line}: quantity/unit_price are not numbers")
    return order, item


def orders_from_csv(lines: Iterable[str]) -> Iterator[dict]:
    """Orders from CSV rows (one row per item, rows of an order consecutive)."""
    reader = csv.DictReader(lines)
    absent = [c for c in ("order_id", "member", "amount", "paid_at") if c not in (reader.fieldnames or [])]
    if absent:
        raise CsvError(f"missing columns: {', '.join(absent)}")
    current: dict | None = None
    for line, row in enumerate(reader, start=2):
        order, item = _parse_row(line, row)
        if current is not None and current["order_id"] != order["order_id"]:
            yield current
            current = None
        if current is None:
            current = order
        if item:
            current["items"].append(item)
    if current is not None:
        yield current


def orders_import_csv(*, partner, lines: Iterable[str], batch_size: int = MAX_IMPORT) -> dict:
    counts = {"created": 0, "duplicate": 0, "rejected": 0}
    errors: list[dict] = []
    batch: list[dict] = []

    def flush() -> None:
        for result in orders_import(partner=partner, orders=batch, actor="import_orders"):
            counts[result["status"]] += 1
            if result["status"] == "rejected":
                errors.append(result)
        batch.clear()

    for order in orders_from_csv(lines):
        batch.append(order)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return {"counts": counts, "errors": errors}
