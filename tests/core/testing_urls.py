"""Test-only API views, mounted next to the real URLs via a ROOT_URLCONF override.

The real project plus well-behaved platform views (used by the schema and schemathesis tests
too); tests/core/crash_urls.py adds a view that raises.
"""

from __future__ import annotations

import time

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns
from core.api.fields import CurrencyField, MoneyField, PointsField
from core.api.idempotency import idempotent
from core.api.pagination import CursorPagination
from core.api.schema import problem_response
from core.errors import Conflict
from core.models import AuditLog
from core.services import audit_log_record

SLOW_POST_SECONDS = {"value": 0.0}


class PostingApi(APIView):
    """Creates one row per (idempotent) request: counts postings."""

    required_scopes = ["points:write"]

    class InputSerializer(serializers.Serializer):
        amount = MoneyField()
        currency = CurrencyField()
        points = PointsField(min_value=1)
        refuse = serializers.BooleanField(default=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        amount = MoneyField()
        currency = CurrencyField()
        points = PointsField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 409: problem_response(409, "insufficient_points")},
        tags=["testing"],
    )
    @idempotent(required=True)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["refuse"]:
            audit_log_record(action="test.refused", actor_type="system")  # rolled back
            raise Conflict("Not enough points.", code="insufficient_points")
        if SLOW_POST_SECONDS["value"]:
            time.sleep(SLOW_POST_SECONDS["value"])
        row = audit_log_record(
            action="test.posted", actor_type="system", note=str(data.validated_data["amount"])
        )
        out = {**data.validated_data, "id": row.pk}
        return Response(self.OutputSerializer(out).data, status=201)


class ScopedReadApi(APIView):
    required_scopes = ["analytics:read"]

    class OutputSerializer(serializers.Serializer):
        partner = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer}, tags=["testing"])
    def get(self, request):
        return Response({"partner": request.user.partner.name})


class RowListApi(generics.ListAPIView):
    """A cursor-paginated list."""

    required_scopes = ["analytics:read"]
    pagination_class = CursorPagination
    queryset = AuditLog.objects.order_by("-id")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        action = serializers.CharField()

    serializer_class = OutputSerializer

    @extend_schema(tags=["testing"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path("api/v1/_test/postings", PostingApi.as_view()),
    path("api/v1/_test/scoped", ScopedReadApi.as_view()),
    path("api/v1/_test/rows", RowListApi.as_view()),
    *project_urlpatterns,
]
