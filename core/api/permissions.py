"""Scopes: a view lists `required_scopes` (all needed) or a per-method dict."""

from __future__ import annotations

from rest_framework import exceptions, permissions

from core.errors import ErrorCode

from .auth import PartnerPrincipal


class HasScopes(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, PartnerPrincipal):
            raise exceptions.NotAuthenticated("Authentication credentials were not provided.")
        required = getattr(view, "required_scopes", None)
        if isinstance(required, dict):
            required = required.get(request.method, required.get("*", []))
        missing = [s for s in (required or []) if s not in principal.scopes]
        if missing:
            raise exceptions.PermissionDenied(
                f"This key lacks the scope(s): {', '.join(missing)}.", code=ErrorCode.MISSING_SCOPE
            )
        return True


def partner_of(request):
    """The calling partner (a core.models.Partner)."""
    return request.user.partner
