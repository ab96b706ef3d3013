"""Partner API of the benefits domain: one view per operation, no logic."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.fields import MoneyField, PointsField
from core.api.idempotency import idempotent
from core.api.pagination import CursorPagination
from core.api.permissions import partner_of
from core.money import DEFAULT_CURRENCY
from members.selectors import member_resolve

from . import pricing, selectors, services
from .models import Coupon, CouponTemplate
from .presentation import describe_template

MONEY = {"max_digits": 12, "decimal_places": 2}


class CouponTemplateOutput(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    summary = serializers.SerializerMethodField()
    kind = serializers.CharField()
    threshold = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY, allow_null=True)
    rate = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    cap = serializers.DecimalField(**MONEY, allow_null=True)
    validity = serializers.CharField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    valid_days = serializers.IntegerField(allow_null=True)
    total_quantity = serializers.IntegerField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    per_member_limit = serializers.IntegerField(allow_null=True)
    scope = serializers.SerializerMethodField()
    stacking = serializers.CharField()
    stack_group = serializers.CharField(source="effective_stack_group")

    def get_summary(self, obj: CouponTemplate) -> str:
        return describe_template(obj)

    def get_scope(self, obj: CouponTemplate) -> dict:
        return {
            name: getattr(obj, name)
            for name in (
                "categories",
                "skus",
                "exclude_categories",
                "exclude_skus",
                "channels",
                "stores",
                "tier_codes",
            )
        }


class CouponTemplateListApi(APIView):
    required_scopes = ["coupons:read"]

    @extend_schema(
        summary="Coupon templates this partner may issue",
        responses=CouponTemplateOutput(many=True),
        tags=["coupons"],
    )
    def get(self, request):
        paginator = CursorPagination()
        page = paginator.paginate_queryset(
            selectors.coupon_templates_issuable(partner=partner_of(request)), request, self
        )
        return paginator.get_paginated_response(CouponTemplateOutput(page, many=True).data)


class CouponOutput(serializers.Serializer):
    code = serializers.CharField()
    template = serializers.CharField(source="template.public_id")
    template_code = serializers.CharField(source="template.code")
    name = serializers.CharField(source="template.name")
    kind = serializers.CharField(source="template.kind")
    status = serializers.SerializerMethodField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    issued_at = serializers.DateTimeField()
    issued_by = serializers.CharField()
    order_id = serializers.CharField()
    discount_amount = serializers.DecimalField(**MONEY, allow_null=True)
    redeemed_at = serializers.DateTimeField(allow_null=True)

    def get_status(self, obj: Coupon) -> str:
        return getattr(obj, "effective_status", obj.status)


class MemberCouponsApi(APIView):
    required_scopes = {"GET": ["coupons:read"], "POST": ["coupons:write"]}

    class InputSerializer(serializers.Serializer):
        template = serializers.CharField(max_length=64)
        source_ref = serializers.CharField(max_length=100, required=False, default="")

    @extend_schema(
        summary="A member's coupon wallet",
        parameters=[OpenApiParameter("status", str, enum=list(selectors.WALLET_STATUSES))],
        responses=CouponOutput(many=True),
        tags=["coupons"],
    )
    def get(self, request, member: str):
        m = member_resolve(partner=partner_of(request), ref=member)
        qs = selectors.member_coupons(member=m, status=request.query_params.get("status") or None)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, self)
        return paginator.get_paginated_response(CouponOutput(page, many=True).data)

    @extend_schema(
        summary="Issue a coupon to a member (Idempotency-Key required)",
        request=InputSerializer,
        responses={201: CouponOutput},
        tags=["coupons"],
    )
    @idempotent(required=True)
    def post(self, request, member: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = partner_of(request)
        m = member_resolve(partner=partner, ref=member)
        template = selectors.coupon_template_for_partner(partner=partner, ref=data.validated_data["template"])
        coupon, _created = services.coupon_issue(
            template=template,
            member=m,
            source=Coupon.Source.API,
            source_ref=data.validated_data["source_ref"],
            source_key=f"api:{partner.pk}:{request.headers.get('Idempotency-Key', '').strip()}"[:150],
            partner=partner,
            actor=str(request.user),
        )
        return Response(CouponOutput(coupon).data, status=status.HTTP_201_CREATED)


class CartItemInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    category = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    unit_price = MoneyField(max_digits=12)


class CouponRedeemApi(APIView):
    required_scopes = ["coupons:write"]

    class InputSerializer(serializers.Serializer):
        order_id = serializers.CharField(max_length=100)
        amount = MoneyField(max_digits=12)
        member = serializers.CharField(max_length=100, required=False)
        channel = serializers.CharField(max_length=30, required=False, default="", allow_blank=True)
        store_id = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
        items = CartItemInput(many=True, required=False)

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField(source="coupon.code")
        status = serializers.CharField(source="coupon.status")
        order_id = serializers.CharField(source="coupon.order_id")
        amount = serializers.DecimalField(source="coupon.order_amount", **MONEY)
        discount = serializers.DecimalField(**MONEY)
        free_shipping = serializers.BooleanField()
        currency = serializers.SerializerMethodField()
        redeemed_at = serializers.DateTimeField(source="coupon.redeemed_at")

        def get_currency(self, obj) -> str:
            return DEFAULT_CURRENCY

    @extend_schema(
        summary="Redeem a coupon against an order",
        request=InputSerializer,
        responses=OutputSerializer,
        tags=["coupons"],
    )
    @idempotent()
    def post(self, request, code: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        partner = partner_of(request)
        member = member_resolve(partner=partner, ref=v["member"]) if v.get("member") else None
        items = [
            pricing.CartLine(i["sku"], i["category"], i["quantity"], i["unit_price"])
            for i in v.get("items") or []
        ]
        result = services.coupon_redeem(
            code=code,
            order_id=v["order_id"],
            amount=v["amount"],
            partner=partner,
            member=member,
            items=items or None,
            channel=v["channel"],
            store_id=v["store_id"],
            actor=str(request.user),
        )
        response = Response(self.OutputSerializer(result).data, status=status.HTTP_200_OK)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CouponReleaseApi(APIView):
    required_scopes = ["coupons:write"]

    class InputSerializer(serializers.Serializer):
        order_id = serializers.CharField(max_length=100)

    @extend_schema(
        summary="Release a coupon when its order is cancelled",
        request=InputSerializer,
        responses=CouponOutput,
        tags=["coupons"],
    )
    @idempotent()
    def post(self, request, code: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        coupon, replayed = services.coupon_release(
            code=code,
            order_id=data.validated_data["order_id"],
            partner=partner_of(request),
            actor=str(request.user),
        )
        response = Response(CouponOutput(coupon).data)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CouponDetailApi(APIView):
    required_scopes = ["coupons:read"]

    @extend_schema(summary="Look up a coupon by code", responses=CouponOutput, tags=["coupons"])
    def get(self, request, code: str):
        return Response(CouponOutput(selectors.coupon_get(code=code)).data)


class MemberBenefitsApi(APIView):
    required_scopes = ["members:read"]

    class OutputSerializer(serializers.Serializer):
        class BenefitOutput(serializers.Serializer):
            code = serializers.CharField()
            name = serializers.CharField()
            description = serializers.CharField()
            icon = serializers.CharField()
            source = serializers.ChoiceField(choices=["tier", "paid_plan"])

        tier = serializers.CharField(allow_null=True)
        discount_rate = serializers.DecimalField(max_digits=4, decimal_places=2)
        free_shipping = serializers.BooleanField()
        benefits = BenefitOutput(many=True)

    @extend_schema(summary="A member's current entitlements", responses=OutputSerializer, tags=["benefits"])
    def get(self, request, member: str):
        m = member_resolve(partner=partner_of(request), ref=member)
        return Response(self.OutputSerializer(selectors.member_entitlements(member=m)).data)


class QuoteDiscountOutput(serializers.Serializer):
    source = serializers.ChoiceField(choices=["tier", "coupon", "points"])
    code = serializers.CharField()
    amount = MoneyField()
    reason = serializers.CharField()


class QuoteLineOutput(serializers.Serializer):
    sku = serializers.CharField()
    category = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    list_total = MoneyField()
    member_total = MoneyField()
    member_discount = MoneyField()
    coupon_discount = MoneyField()
    points_deduction = MoneyField()
    total = MoneyField()
    discounts = QuoteDiscountOutput(many=True)


class QuoteAppliedOutput(serializers.Serializer):
    code = serializers.CharField()
    template = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    discount = MoneyField()
    shipping_discount = MoneyField()


class QuoteNotAppliedOutput(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField()
    message = serializers.CharField()


class QuoteCouponsOutput(serializers.Serializer):
    applied = QuoteAppliedOutput(many=True)
    not_applied = QuoteNotAppliedOutput(many=True)


class QuoteShippingOutput(serializers.Serializer):
    fee = MoneyField()
    discount = MoneyField()
    payable = MoneyField()
    reason = serializers.CharField()


class QuotePointsOutput(serializers.Serializer):
    requested = serializers.IntegerField()
    used = serializers.IntegerField()
    deduction = MoneyField()
    available = serializers.IntegerField()
    max_usable = serializers.IntegerField()
    max_deduction = MoneyField()
    points_per_yuan = serializers.IntegerField()
    max_order_ratio = serializers.CharField()
    capped = serializers.BooleanField()


class QuoteSummaryOutput(serializers.Serializer):
    subtotal = MoneyField()
    member_discount = MoneyField()
    member_subtotal = MoneyField()
    coupon_discount = MoneyField()
    points_deduction = MoneyField()
    goods_payable = MoneyField()
    shipping_fee = MoneyField()
    shipping_discount = MoneyField()
    shipping_payable = MoneyField()
    total_discount = MoneyField()
    payable = MoneyField()


class QuoteOutput(serializers.Serializer):
    """The quote body as documented in the schema (built by pricing.quote_as_dict)."""

    member = serializers.CharField()
    currency = serializers.CharField()
    tier = serializers.CharField(allow_null=True)
    discount_rate = serializers.CharField()
    lines = QuoteLineOutput(many=True)
    coupons = QuoteCouponsOutput()
    shipping = QuoteShippingOutput()
    points = QuotePointsOutput()
    summary = QuoteSummaryOutput()


class CheckoutQuoteApi(APIView):
    required_scopes = ["coupons:read"]

    class InputSerializer(serializers.Serializer):
        member = serializers.CharField(max_length=100)
        items = CartItemInput(many=True, allow_empty=False, max_length=500)
        shipping_fee = MoneyField(max_digits=12, required=False, default=Decimal("0.00"))
        coupon_codes = serializers.ListField(
            child=serializers.CharField(max_length=24), required=False, allow_null=True, max_length=20
        )
        points_to_use = PointsField(min_value=0, required=False, allow_null=True)
        channel = serializers.CharField(max_length=30, required=False, default="", allow_blank=True)
        store_id = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)

    @extend_schema(
        summary="Best price for a member and a cart, line by line",
        request=InputSerializer,
        responses=QuoteOutput,
        tags=["checkout"],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        m = member_resolve(partner=partner_of(request), ref=v["member"])
        quote = selectors.checkout_quote(
            member=m,
            lines=[
                pricing.CartLine(i["sku"], i["category"], i["quantity"], i["unit_price"]) for i in v["items"]
            ],
            shipping_fee=v["shipping_fee"],
            coupon_codes=v.get("coupon_codes"),
            points_to_use=v.get("points_to_use"),
            channel=v["channel"],
            store_id=v["store_id"],
        )
        return Response({"member": m.member_id, **pricing.quote_as_dict(quote)})
