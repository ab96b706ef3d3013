from django.urls import path

from . import apis

urlpatterns = [
    path("tiers", apis.TierListApi.as_view(), name="tiers-list"),
    path("members/<str:member>/tier", apis.MemberTierApi.as_view(), name="member-tier"),
    path(
        "members/<str:member>/subscriptions",
        apis.SubscriptionCreateApi.as_view(),
        name="member-subscriptions",
    ),
]
