from django.urls import path

from . import views

app_name = "tiers"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("growth/", views.growth, name="growth"),
]
