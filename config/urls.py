"""Root URLs: wires every app's pages and API views; owns nothing."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.api import views as core_api_views

api_v1 = [
    path("health", core_api_views.HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("core.api_urls")),
    path("", include("members.api_urls")),
    path("", include("tiers.api_urls")),
    path("", include("points.api_urls")),
    path("", include("benefits.api_urls")),
    path("", include("analytics.api_urls")),
    path("", include("campaigns.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "api"))),
    path("points/", include("points.urls")),
    path("tiers/", include("tiers.urls")),
    path("benefits/", include("benefits.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("analytics/", include("analytics.urls")),
    path("", include("members.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
