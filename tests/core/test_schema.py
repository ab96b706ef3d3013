"""The OpenAPI schema: valid OpenAPI 3, Bearer auth, Problem errors, Idempotency-Key."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def generate() -> dict:
    return SchemaGenerator(api_version="v1").get_schema(request=None, public=True)


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_project_schema_is_valid_openapi(client):
    validate_schema(generate())
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200


def test_platform_schema_is_valid_and_complete(platform_urls):
    schema = generate()
    validate_schema(schema)
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "mh_<prefix>_<secret>",
        "description": schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"],
    }
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    secured = 0
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        if any(operation.get("security", [])):
            secured += 1
            for status in ("400", "401", "403", "404", "409", "429"):
                assert status in responses, (path, method, status)
        for status, response in responses.items():
            if status.startswith("4") and "$ref" not in response:
                assert "application/problem+json" in response["content"], (path, method, status)
    assert secured >= 3


def test_idempotent_post_documents_the_header_and_replay(platform_urls):
    schema = generate()
    operation = schema["paths"]["/api/v1/_test/postings"]["post"]
    [param] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert param["in"] == "header" and param["required"] is True
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert "413" in operation["responses"]
    # Nested Input/Output serializers get names after their view, never clashing.
    assert "PostingInputRequest" in schema["components"]["schemas"]
    money = schema["components"]["schemas"]["PostingOutput"]["properties"]["amount"]
    assert money["type"] == "string"


def test_paginated_list_documents_bounded_page_size(platform_urls):
    schema = generate()
    params = {p["name"]: p for p in schema["paths"]["/api/v1/_test/rows"]["get"]["parameters"]}
    assert params["page_size"]["schema"]["maximum"] == 200
    assert "cursor" in params


def test_docs_page_answers(client):
    assert client.get("/api/v1/docs/").status_code == 200
