from django.urls import path

from . import apis

urlpatterns = [
    path("orders", apis.OrderCreateApi.as_view(), name="order-create"),
    path("orders:import", apis.OrderImportApi.as_view(), name="order-import"),
    path("orders/<str:order_id>/refunds", apis.OrderRefundApi.as_view(), name="order-refund"),
    path("orders/<str:order_id>/complete", apis.OrderCompleteApi.as_view(), name="order-complete"),
    path("events", apis.EventsIngestApi.as_view(), name="events-ingest"),
    path("members/<str:member>/points", apis.PointsBalanceApi.as_view(), name="points-balance"),
    path(
        "members/<str:member>/points/transactions",
        apis.PointsTransactionsApi.as_view(),
        name="points-transactions",
    ),
    path("members/<str:member>/points/holds", apis.HoldCreateApi.as_view(), name="points-hold-create"),
    path(
        "members/<str:member>/points/adjustments",
        apis.AdjustmentCreateApi.as_view(),
        name="points-adjustment-create",
    ),
    path("points/holds/<str:hold_id>/capture", apis.HoldCaptureApi.as_view(), name="points-hold-capture"),
    path("points/holds/<str:hold_id>/release", apis.HoldReleaseApi.as_view(), name="points-hold-release"),
    path("rewards", apis.RewardListApi.as_view(), name="reward-list"),
    path(
        "members/<str:member>/rewards/redemptions",
        apis.RedemptionCreateApi.as_view(),
        name="reward-redemption-create",
    ),
]
