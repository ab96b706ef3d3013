from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("mall/", views.mall, name="mall"),
    path("mall/redeem/", views.redeem, name="redeem"),
]
