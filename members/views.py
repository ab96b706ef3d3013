"""Member-centre pages. Thin: forms validate, services write."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core import registry


def home(request: HttpRequest) -> HttpResponse:
    panels = []
    if request.user.is_authenticated:
        for panel in registry.home_panels():
            panels.append(
                {
                    "name": panel.name,
                    "template": panel.template,
                    "context": panel.context(request, request.user),
                }
            )
    return render(request, "members/home.html", {"panels": panels})


class LoginView(auth_views.LoginView):
    template_name = "members/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass
