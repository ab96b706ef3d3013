"""Partner API of the tier engine: one view per operation, no logic."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import idempotent
from core.api.permissions import partner_of
from members.selectors import member_resolve

from .selectors import member_tier_summary, paid_plan_list, tier_list
from .services import subscription_purchase


class TierBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    rank = serializers.IntegerField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    points_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)
    discount_rate = serializers.DecimalField(max_digits=4, decimal_places=2)
    benefit_codes = serializers.ListField(child=serializers.CharField())


class TierListApi(APIView):
    """The tier catalogue: any valid key may read it."""

    required_scopes: list[str] = []

    class OutputSerializer(TierBriefSerializer):
        description = serializers.CharField()
        is_default = serializers.BooleanField()
        qualification_mode = serializers.CharField()
        growth_threshold = serializers.IntegerField()
        qualifying_spend = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
        qualifying_orders = serializers.IntegerField(allow_null=True)
        window_months = serializers.IntegerField()
        retention = serializers.SerializerMethodField()
        grace_days = serializers.IntegerField()
        benefits_text = serializers.CharField()

        def get_retention(self, tier) -> dict:
            from .rules import retention_requirement

            growth, spend = retention_requirement(tier)
            return {"growth": growth, "spend": f"{spend:.2f}" if spend is not None else None}

    class PlanSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        name_en = serializers.CharField()
        price = serializers.DecimalField(max_digits=10, decimal_places=2)
        currency = serializers.SerializerMethodField()
        duration_days = serializers.IntegerField()
        auto_renew = serializers.BooleanField()
        tier = serializers.CharField(source="tier.code", allow_null=True, default=None)
        benefit_codes = serializers.ListField(child=serializers.CharField())

        def get_currency(self, plan) -> str:
            return "CNY"

    @extend_schema(
        summary="Tier catalogue and paid plans",
        responses=inline_serializer(
            "TierCatalogue",
            {
                "results": OutputSerializer(many=True),
                "paid_plans": PlanSerializer(many=True),
                "next": serializers.CharField(allow_null=True),
            },
        ),
        tags=["tiers"],
    )
    def get(self, request):
        return Response(
            {
                "results": self.OutputSerializer(tier_list(), many=True).data,
                "paid_plans": self.PlanSerializer(paid_plan_list(), many=True).data,
                "next": None,
            }
        )


class MemberTierApi(APIView):
    required_scopes = ["members:read"]

    class OutputSerializer(serializers.Serializer):
        member_id = serializers.CharField(source="member.member_id")
        tier = TierBriefSerializer(allow_null=True)
        earned_tier = serializers.CharField(source="earned_tier.code", allow_null=True, default=None)
        growth_value = serializers.IntegerField()
        growth_total = serializers.IntegerField()
        next_tier = TierBriefSerializer(allow_null=True)
        needed_for_next = serializers.IntegerField(allow_null=True)
        retention = serializers.SerializerMethodField()
        paid_plan = serializers.SerializerMethodField()
        override = serializers.SerializerMethodField()
        benefit_codes = serializers.ListField(child=serializers.CharField())

        def get_retention(self, summary) -> dict:
            spend = summary.retention_spend_required
            return {
                "required": summary.retention_required,
                "required_spend": f"{spend:.2f}" if spend is not None else None,
                "achieved": summary.retention_achieved,
                "achieved_spend": f"{summary.spend_in_window:.2f}",
                "evaluate_at": serializers.DateTimeField().to_representation(summary.evaluate_at)
                if summary.evaluate_at
                else None,
                "grace_until": serializers.DateTimeField().to_representation(summary.grace_until)
                if summary.grace_until
                else None,
            }

        def get_paid_plan(self, summary) -> dict | None:
            if not summary.subscriptions:
                return None
            sub = summary.subscriptions[0]
            dt = serializers.DateTimeField()
            return {
                "plan": sub.plan.code,
                "name": sub.plan.name,
                "tier": sub.plan.tier.code if sub.plan.tier_id else None,
                "starts_at": dt.to_representation(sub.starts_at),
                "ends_at": dt.to_representation(sub.ends_at),
                "paid_until": dt.to_representation(summary.paid_until) if summary.paid_until else None,
                "auto_renew": sub.auto_renew,
            }

        def get_override(self, summary) -> dict | None:
            state = summary.state
            if not summary.override_active:
                return None
            return {
                "tier": state.override_tier.code,
                "until": serializers.DateTimeField().to_representation(state.override_until)
                if state.override_until
                else None,
            }

    @extend_schema(
        summary="A member's tier, growth value and progress", responses=OutputSerializer, tags=["tiers"]
    )
    def get(self, request, member: str):
        member_obj = member_resolve(partner=partner_of(request), ref=member)
        summary = member_tier_summary(member=member_obj)
        return Response(self.OutputSerializer(summary).data)


class SubscriptionCreateApi(APIView):
    """Record a paid membership bought in the shop (idempotent by payment_reference)."""

    required_scopes = ["members:write"]

    class InputSerializer(serializers.Serializer):
        plan = serializers.SlugField(max_length=30)
        payment_reference = serializers.CharField(max_length=128)
        starts_at = serializers.DateTimeField(required=False, allow_null=True)
        auto_renew = serializers.BooleanField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        payment_reference = serializers.CharField()
        member_id = serializers.CharField(source="member.member_id")
        plan = serializers.CharField(source="plan.code")
        tier = serializers.SerializerMethodField()
        status = serializers.CharField()
        price = serializers.DecimalField(max_digits=10, decimal_places=2)
        currency = serializers.SerializerMethodField()
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        auto_renew = serializers.BooleanField()

        def get_tier(self, sub) -> str | None:
            return sub.plan.tier.code if sub.plan.tier_id else None

        def get_currency(self, sub) -> str:
            return "CNY"

    @extend_schema(
        summary="Record a paid membership purchase",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
        tags=["tiers"],
    )
    @idempotent(required=False)
    def post(self, request, member: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_obj = member_resolve(partner=partner_of(request), ref=member)
        sub, created = subscription_purchase(
            member=member_obj, partner=partner_of(request), **data.validated_data
        )
        return Response(
            self.OutputSerializer(sub).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
