"""Test-only URLs: the project plus a view that raises an unexpected exception."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from tests.core.testing_urls import urlpatterns as testing_urlpatterns


class CrashApi(APIView):
    required_scopes: list[str] = []

    @extend_schema(exclude=True)
    def get(self, request):
        raise RuntimeError("boom")


def plain_django_crash(request):
    raise RuntimeError("boom outside DRF")


urlpatterns = [
    path("api/v1/_test/crash", CrashApi.as_view()),
    path("api/v1/_test/plain-crash", plain_django_crash),
    *testing_urlpatterns,
]
