from django.urls import path

from . import views

app_name = "benefits"

urlpatterns = [
    path("", views.benefits_home, name="home"),
    path("coupons/", views.coupon_wallet, name="coupons"),
    path("coupons/<str:code>/", views.coupon_detail, name="coupon"),
    path("trials/", views.trial_centre, name="trials"),
    path("trials/<int:pk>/apply/", views.trial_apply_view, name="trial_apply"),
    path("trials/applications/<int:pk>/report/", views.trial_report_view, name="trial_report"),
]
