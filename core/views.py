"""Error pages: problem+json under /api/, HTML elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views.defaults import page_not_found as django_page_not_found
from django.views.defaults import server_error as django_server_error

from .api.exceptions import problem_response
from .errors import ErrorCode


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(404, ErrorCode.NOT_FOUND, "Not found", f"No endpoint at {request.path}.")
    return django_page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(500, ErrorCode.SERVER_ERROR, "Server error", "An unexpected error occurred.")
    return django_server_error(request)
