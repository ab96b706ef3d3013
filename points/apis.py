"""Partner API of the points domain: one view per operation, nested serializers, no logic."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import idempotent
from core.api.pagination import CursorPagination
from core.api.permissions import partner_of
from members.selectors import member_resolve

from . import selectors, services
from .services.imports import MAX_IMPORT, orders_import

MAX_EVENTS = 1000


class ItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    category = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class OrderInputSerializer(serializers.Serializer):
    order_id = serializers.CharField(max_length=64)
    member = serializers.CharField(max_length=150)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="CNY")
    items = ItemSerializer(many=True, required=False, default=list)
    channel = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    store_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True, default=""
    )
    paid_at = serializers.DateTimeField()

    def validate_paid_at(self, value):
        from django.utils import timezone

        if timezone.is_naive(value):
            raise serializers.ValidationError("Give an offset (ISO 8601).")
        return value


class OrderOutputSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    points_pending = serializers.IntegerField()
    points_awarded = serializers.IntegerField()
    growth_value = serializers.IntegerField()
    tier = serializers.CharField(allow_null=True)


class OrderCreateApi(APIView):
    """An order was paid. Idempotent by order_id: a replay answers 200 with the same body."""

    required_scopes = ["orders:write"]

    @extend_schema(
        summary="Record a paid order",
        request=OrderInputSerializer,
        responses={201: OrderOutputSerializer, 200: OrderOutputSerializer},
        tags=["orders"],
    )
    def post(self, request):
        data = OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        partner = partner_of(request)
        member = member_resolve(partner=partner, ref=values.pop("member"))
        values["store_id"] = values.get("store_id") or ""
        outcome = services.order_record(partner=partner, member=member, actor=request.user, **values)
        return Response(
            outcome.body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
        )


class OrderRefundApi(APIView):
    """A refund of (part of) an order: points and growth of that part are reversed."""

    required_scopes = ["orders:write"]

    class InputSerializer(serializers.Serializer):
        refund_id = serializers.CharField(max_length=64)
        amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
        items = serializers.ListField(child=serializers.DictField(), required=False, default=list)

    class OutputSerializer(serializers.Serializer):
        order_id = serializers.CharField(source="order.order_id")
        refund_id = serializers.CharField()
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        points_reversed = serializers.IntegerField()
        points_debt = serializers.IntegerField()
        growth_reversed = serializers.IntegerField()
        order_refunded_amount = serializers.DecimalField(
            source="order.refunded_amount", max_digits=12, decimal_places=2
        )
        order_status = serializers.CharField(source="order.status")

    @extend_schema(
        summary="Refund (part of) an order",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
        tags=["orders"],
    )
    def post(self, request, order_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund, created = services.order_refund(
            partner=partner_of(request), order_id=order_id, actor=request.user, **data.validated_data
        )
        refund.order.refresh_from_db()
        return Response(
            self.OutputSerializer(refund).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OrderCompleteApi(APIView):
    """The return window closed: confirm the order's pending points now."""

    required_scopes = ["orders:write"]

    class OutputSerializer(serializers.Serializer):
        order_id = serializers.CharField()
        status = serializers.CharField()
        confirmed_at = serializers.DateTimeField()

    @extend_schema(summary="Complete an order", request=None, responses=OutputSerializer, tags=["orders"])
    def post(self, request, order_id: str):
        order = services.order_complete(partner=partner_of(request), order_id=order_id, actor=request.user)
        return Response(self.OutputSerializer(order).data)


class OrderImportApi(APIView):
    """Up to 1,000 historical orders; each is all-or-nothing; one result per order."""

    required_scopes = ["orders:write"]

    class InputSerializer(serializers.Serializer):
        orders = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_IMPORT)

    class ResultSerializer(serializers.Serializer):
        order_id = serializers.CharField()
        status = serializers.ChoiceField(choices=["created", "duplicate", "rejected"])
        points_pending = serializers.IntegerField(required=False)
        points_awarded = serializers.IntegerField(required=False)
        growth_value = serializers.IntegerField(required=False)
        tier = serializers.CharField(required=False, allow_null=True)
        code = serializers.CharField(required=False)
        errors = serializers.DictField(required=False)

    class OutputSerializer(serializers.Serializer):
        results = serializers.ListField(child=serializers.DictField())
        summary = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(
        summary="Import historical orders",
        request=InputSerializer,
        responses={200: OutputSerializer},
        tags=["orders"],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        valid: list[dict] = []
        slots: list[dict | None] = []
        for raw in data.validated_data["orders"]:
            one = OrderInputSerializer(data=raw)
            if one.is_valid():
                values = dict(one.validated_data)
                values["store_id"] = values.get("store_id") or ""
                valid.append(values)
                slots.append(None)
            else:
                slots.append(
                    {
                        "order_id": str(raw.get("order_id", "")),
                        "status": "rejected",
                        "code": "invalid",
                        "errors": _flat(one.errors),
                    }
                )
        imported = iter(orders_import(partner=partner_of(request), orders=valid, actor=request.user))
        results = [slot if slot is not None else next(imported) for slot in slots]
        summary = {
            s: sum(1 for r in results if r["status"] == s) for s in ("created", "duplicate", "rejected")
        }
        return Response({"results": results, "summary": summary})


def _flat(errors) -> dict:
    from core.api.exceptions import _flatten_errors

    return _flatten_errors(errors)


class EventsIngestApi(APIView):
    """A batch of up to 1,000 behaviour events; idempotent by event_id; one result per event."""

    required_scopes = ["events:write"]

    class EventSerializer(serializers.Serializer):
        event_id = serializers.CharField(max_length=64)
        member = serializers.CharField(max_length=150)
        type = serializers.RegexField(r"^(custom:)?[a-z][a-z0-9_.-]{0,50}$", max_length=60)
        occurred_at = serializers.DateTimeField()
        properties = serializers.DictField(required=False, default=dict)

    class OutputSerializer(serializers.Serializer):
        results = serializers.ListField(child=serializers.DictField())
        summary = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(
        summary="Send behaviour events",
        request=EventSerializer(many=True),
        responses={200: OutputSerializer},
        tags=["events"],
    )
    def post(self, request):
        payload = request.data.get("events") if isinstance(request.data, dict) else request.data
        if not isinstance(payload, list) or not payload:
            raise ValidationError({"events": ['A non-empty list of events (or {"events": [...]}).']})
        if len(payload) > MAX_EVENTS:
            raise ValidationError({"events": [f"At most {MAX_EVENTS} events per batch."]})
        valid: list[dict] = []
        slots: list[dict | None] = []
        for raw in payload:
            one = self.EventSerializer(data=raw) if isinstance(raw, dict) else None
            if one is not None and one.is_valid():
                valid.append(dict(one.validated_data))
                slots.append(None)
            else:
                slots.append(
                    {
                        "event_id": str(raw.get("event_id", "")) if isinstance(raw, dict) else "",
                        "status": "rejected",
                        "points": 0,
                        "code": "invalid",
                        "errors": _flat(one.errors)
                        if one is not None
                        else {"non_field_errors": ["An object."]},
                    }
                )
        done = iter(services.behaviour_events_ingest(partner=partner_of(request), items=valid))
        results = [slot if slot is not None else next(done) for slot in slots]
        summary = {
            s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "duplicate", "rejected")
        }
        return Response({"results": results, "summary": summary})


class PointsBalanceApi(APIView):
    required_scopes = ["points:read"]

    class OutputSerializer(serializers.Serializer):
        member_id = serializers.CharField()
        available = serializers.IntegerField()
        pending = serializers.IntegerField()
        held = serializers.IntegerField()
        debt = serializers.IntegerField()
        expiring = serializers.ListField(child=serializers.DictField())

    @extend_schema(summary="A member's points balance", responses=OutputSerializer, tags=["points"])
    def get(self, request, member: str):
        member_obj = member_resolve(partner=partner_of(request), ref=member)
        body = selectors.points_balance(member=member_obj)
        body["member_id"] = member_obj.member_id
        body["expiring"] = [
            {
                "points": e["points"],
                "expires_at": serializers.DateTimeField().to_representation(e["expires_at"]),
            }
            for e in selectors.points_expiring(member=member_obj)
        ]
        return Response(body)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    delta_available = serializers.IntegerField()
    delta_pending = serializers.IntegerField()
    delta_held = serializers.IntegerField()
    delta_debt = serializers.IntegerField()
    source_type = serializers.CharField()
    source_id = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PointsTransactionsApi(APIView):
    """The member's ledger entries, newest first (cursor paginated)."""

    required_scopes = ["points:read"]

    @extend_schema(summary="A member's points ledger", responses=EntrySerializer(many=True), tags=["points"])
    def get(self, request, member: str):
        member_obj = member_resolve(partner=partner_of(request), ref=member)
        kind = request.query_params.get("kind") or None
        paginator = CursorPagination()
        paginator.ordering = "-id"
        page = paginator.paginate_queryset(
            selectors.points_entries(member=member_obj, kind=kind), request, view=self
        )
        return paginator.get_paginated_response(EntrySerializer(page, many=True).data)


class HoldOutputSerializer(serializers.Serializer):
    hold_id = serializers.CharField()
    status = serializers.CharField()
    points = serializers.IntegerField()
    captured_points = serializers.IntegerField()
    reference = serializers.CharField()
    expires_at = serializers.DateTimeField()


class HoldCreateApi(APIView):
    required_scopes = ["points:write"]

    class InputSerializer(serializers.Serializer):
        points = serializers.IntegerField(min_value=1, max_value=10**9)
        reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        expires_in_seconds = serializers.IntegerField(min_value=1, max_value=7 * 24 * 3600, required=False)

    @extend_schema(
        summary="Hold points for a checkout",
        request=InputSerializer,
        responses={201: HoldOutputSerializer},
        tags=["points"],
    )
    @idempotent(required=True)
    def post(self, request, member: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = partner_of(request)
        member_obj = member_resolve(partner=partner, ref=member)
        hold = services.points_hold_create(
            member=member_obj, partner=partner, actor=request.user, **data.validated_data
        )
        return Response(HoldOutputSerializer(hold).data, status=status.HTTP_201_CREATED)


class HoldCaptureApi(APIView):
    required_scopes = ["points:write"]

    class InputSerializer(serializers.Serializer):
        points = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(
        summary="Capture a hold", request=InputSerializer, responses=HoldOutputSerializer, tags=["points"]
    )
    @idempotent(required=False)
    def post(self, request, hold_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.points_hold_capture(
            hold_id=hold_id,
            points=data.validated_data.get("points"),
            partner=partner_of(request),
            actor=request.user,
        )
        return Response(HoldOutputSerializer(hold).data)


class HoldReleaseApi(APIView):
    required_scopes = ["points:write"]

    @extend_schema(summary="Release a hold", request=None, responses=HoldOutputSerializer, tags=["points"])
    @idempotent(required=False)
    def post(self, request, hold_id: str):
        hold = services.points_hold_release(hold_id=hold_id, partner=partner_of(request), actor=request.user)
        return Response(HoldOutputSerializer(hold).data)


class AdjustmentCreateApi(APIView):
    """Adjust a balance with a reason; above the threshold it waits for an operator (202)."""

    required_scopes = ["points:write"]

    class InputSerializer(serializers.Serializer):
        points = serializers.IntegerField(min_value=-(10**9), max_value=10**9)
        reason = serializers.CharField(max_length=255)

        def validate_points(self, value):
            if value == 0:
                raise serializers.ValidationError("Must not be zero.")
            return value

    class OutputSerializer(serializers.Serializer):
        adjustment_id = serializers.CharField()
        points = serializers.IntegerField()
        reason = serializers.CharField()
        status = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        summary="Adjust a member's points",
        request=InputSerializer,
        responses={201: OutputSerializer, 202: OutputSerializer},
        tags=["points"],
    )
    @idempotent(required=True)
    def post(self, request, member: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = partner_of(request)
        member_obj = member_resolve(partner=partner, ref=member)
        adjustment = services.points_adjustment_request(
            member=member_obj, partner=partner, request=request, **data.validated_data
        )
        code = status.HTTP_202_ACCEPTED if adjustment.status == "pending" else status.HTTP_201_CREATED
        return Response(self.OutputSerializer(adjustment).data, status=code)


class RewardSerializer(serializers.Serializer):
    id = serializers.CharField(source="code")
    name = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.CharField()
    points_price = serializers.IntegerField()
    stock = serializers.IntegerField(allow_null=True)
    per_member_limit = serializers.IntegerField(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    coupon_template = serializers.CharField(source="coupon_template_ref")
    red_packet_amount = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class RewardListApi(APIView):
    required_scopes = ["points:read"]

    @extend_schema(summary="Points mall catalogue", responses=RewardSerializer(many=True), tags=["points"])
    def get(self, request):
        paginator = CursorPagination()
        paginator.ordering = "id"
        page = paginator.paginate_queryset(selectors.rewards_available(), request, view=self)
        return paginator.get_paginated_response(RewardSerializer(page, many=True).data)


class RedemptionCreateApi(APIView):
    required_scopes = ["points:write"]

    class InputSerializer(serializers.Serializer):
        reward = serializers.CharField(max_length=40)
        quantity = serializers.IntegerField(min_value=1, max_value=100, required=False, default=1)

    class OutputSerializer(serializers.Serializer):
        redemption_id = serializers.CharField()
        reward = serializers.CharField(source="reward.code")
        quantity = serializers.IntegerField()
        points = serializers.IntegerField()
        status = serializers.CharField()
        fulfilment = serializers.DictField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        summary="Redeem a reward for points",
        request=InputSerializer,
        responses={201: OutputSerializer},
        tags=["points"],
    )
    @idempotent(required=True)
    def post(self, request, member: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = partner_of(request)
        member_obj = member_resolve(partner=partner, ref=member)
        redemption = services.reward_redeem(
            member=member_obj, partner=partner, actor=request.user, **data.validated_data
        )
        return Response(self.OutputSerializer(redemption).data, status=status.HTTP_201_CREATED)
