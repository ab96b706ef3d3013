"""OpenAPI generation: Bearer auth scheme, Problem errors on every operation, Idempotency-Key.

Wired in settings: REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "core.api.schema.AutoSchema" and
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] ends with
"core.api.schema.postprocess_problem_responses".

Apps document their specific refusals with `problem_response`:

    @extend_schema(responses={201: HoldOut, 409: problem_response(409, "insufficient_points")})
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .exceptions import PROBLEM_CONTENT_TYPE, problem_body
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import REPLAYED_HEADER

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457 problem details). `code` is stable; branch on it.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri", "example": "https://memberhub.dev/problems/not_found"},
        "title": {"type": "string", "example": "Not found"},
        "status": {"type": "integer", "example": 404},
        "detail": {"type": "string", "example": "No member with this id."},
        "code": {"type": "string", "example": "member_not_found"},
        "errors": {
            "type": "object",
            "description": "Validation errors by field (nested fields dotted: `items.0.sku`).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"amount": ["Ensure that there are no more than 2 decimal places."]},
        },
    },
    "additionalProperties": True,
}

# status -> (component name, description, example code, example title, example detail)
_STANDARD: dict[int, tuple[str, str, str, str, str]] = {
    400: (
        "BadRequest",
        "Invalid request (see `errors`).",
        "invalid",
        "Validation failed",
        "The request has invalid fields.",
    ),
    401: (
        "Unauthorized",
        "Missing, invalid, revoked or expired key, or a bad/stale/missing X-Signature "
        "(codes: not_authenticated, invalid_api_key, api_key_revoked, invalid_signature, "
        "signature_expired, signature_required).",
        "invalid_api_key",
        "Authentication failed",
        "Invalid API key.",
    ),
    403: (
        "Forbidden",
        "The key lacks a required scope (missing_scope).",
        "missing_scope",
        "Permission denied",
        "This key lacks the scope(s): points:write.",
    ),
    404: (
        "NotFound",
        "No such resource (or not visible to this partner).",
        "not_found",
        "Not found",
        "Not found.",
    ),
    409: (
        "Conflict",
        "Refused by a business rule or an Idempotency-Key conflict "
        "(idempotency_key_reused, request_in_progress, ...).",
        "idempotency_key_reused",
        "Conflict",
        "This Idempotency-Key was used with a different request.",
    ),
    413: (
        "PayloadTooLarge",
        "The request body is too large.",
        "payload_too_large",
        "Payload too large",
        "The request body is too large.",
    ),
    415: (
        "UnsupportedMediaType",
        "Send `Content-Type: application/json`.",
        "unsupported_media_type",
        "Unsupported media type",
        'Unsupported media type "text/plain" in request.',
    ),
    429: (
        "TooManyRequests",
        "Rate limit of the key exceeded; retry after `Retry-After` seconds.",
        "rate_limited",
        "Too many requests",
        "Request was throttled. Expected available in 12 seconds.",
    ),
}


class ProblemSerializer(serializers.Serializer):
    """The problem+json error body (for `extend_schema(responses=...)`)."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)

    class Meta:
        ref_name = "Problem"


def problem_response(status: int, *codes: str, description: str = "") -> OpenApiResponse:
    """An OpenApiResponse documenting a problem with example codes."""
    examples = [
        OpenApiExample(
            code,
            value=problem_body(status, code, "Error", f"Refused: {code}."),
            response_only=True,
            status_codes=[str(status)],
        )
        for code in codes
    ]
    return OpenApiResponse(
        response=ProblemSerializer,
        description=description or ", ".join(codes) or "Error",
        examples=examples,
    )


class ApiKeyAuthScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mh_<prefix>_<secret>",
            "description": (
                "`Authorization: Bearer <key>`. Keys with signing enabled also need "
                '`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` '
                "(at most 5 minutes old)."
            ),
        }


class AutoSchema(openapi.AutoSchema):
    """Adds the Idempotency-Key header to operations decorated with @idempotent, documents
    list responses of plain APIViews as cursor pages (`{results, next}` + cursor/page_size
    parameters), and names
    the nested Input/Output serializers of the one-view-per-operation style after their view
    (`HoldCreateApi.InputSerializer` → component `HoldCreateInput`), so that they never clash."""

    def _get_paginator(self):
        # GenericAPIView says itself (pagination_class, possibly None). A plain APIView's list
        # response is cursor-paginated by contract (API.md: every list is `{results, next}`,
        # built with core.api.pagination.CursorPagination); a view that really returns a bare
        # list sets `pagination_class = None`.
        if hasattr(self.view, "pagination_class") or self.method != "GET":
            return super()._get_paginator()
        from .pagination import CursorPagination

        return CursorPagination()

    def get_serializer_name(self, serializer, direction) -> str:
        qualname = type(serializer).__qualname__
        if "." not in qualname or "<locals>" in qualname:
            return super().get_serializer_name(serializer, direction)
        parts = []
        for part in qualname.split("."):
            for suffix in ("Serializer", "Api", "APIView", "View"):
                if part.endswith(suffix) and part != suffix:
                    part = part[: -len(suffix)]
                    break
            parts.append(part)
        return "".join(parts)

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        handler = getattr(self.view, self.method.lower(), None)
        spec = getattr(handler, "idempotency", None)
        if spec is not None and not any(
            isinstance(p, OpenApiParameter) and p.name == IDEMPOTENCY_HEADER for p in params
        ):
            params.append(
                OpenApiParameter(
                    name=IDEMPOTENCY_HEADER,
                    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                    location=OpenApiParameter.HEADER,
                    required=bool(spec.get("required")),
                    description=(
                        "A unique key per logical operation (e.g. a UUID). A replay with the same key "
                        "and body returns the original response with `Idempotent-Replayed: true`; the "
                        "same key with a different body is 409 `idempotency_key_reused`. Kept 24 hours."
                    ),
                    examples=[OpenApiExample("uuid", value="5f0c7c1e-8a55-4c8f-9a0e-2f6b3c1d7e42")],
                )
            )
        return params


def _problem_content(schema_ref: dict) -> dict:
    return {PROBLEM_CONTENT_TYPE: {"schema": schema_ref}}


def postprocess_problem_responses(result, generator, request, public):
    """Problem component + standard error responses on every operation (problem+json)."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    responses = components.setdefault("responses", {})
    for status, (name, description, code, title, detail) in _STANDARD.items():
        example = problem_body(status, code, title, detail)
        if status == 400:
            example["errors"] = {"amount": ["Ensure that there are no more than 2 decimal places."]}
        response: dict[str, Any] = {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": ref, "example": example}},
        }
        if status == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
        responses[name] = response

    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            _decorate_operation(method, operation)
    return result


def _decorate_operation(method: str, operation: dict) -> None:
    op_responses = operation.setdefault("responses", {})
    # Errors documented by the apps are served as problem+json: say so.
    for status, response in list(op_responses.items()):
        if not str(status).isdigit() or not 400 <= int(status) < 500 or "$ref" in response:
            continue
        content = response.get("content") or {}
        if PROBLEM_CONTENT_TYPE not in content:
            media = content.pop("application/json", None) or {}
            media.setdefault("schema", {"$ref": "#/components/schemas/Problem"})
            content = {PROBLEM_CONTENT_TYPE: media, **content}
            response["content"] = content
    secured = any(req for req in operation.get("security", []) if req)
    wanted = [400, 401, 403, 404, 409, 429] if secured else []
    if "requestBody" in operation:
        wanted += [413, 415]
    for status in sorted(wanted):
        op_responses.setdefault(str(status), {"$ref": f"#/components/responses/{_STANDARD[status][0]}"})
    operation["responses"] = dict(sorted(op_responses.items()))
    op_responses = operation["responses"]
    params = operation.get("parameters", [])
    if any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in params):
        for status, response in op_responses.items():
            if str(status).startswith("2") and "$ref" not in response:
                response.setdefault("headers", {})[REPLAYED_HEADER] = {
                    "schema": {"type": "string", "enum": ["true"]},
                    "description": "Present when this is the stored response of an earlier request "
                    "with the same Idempotency-Key.",
                }
