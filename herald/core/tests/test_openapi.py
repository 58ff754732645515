"""The published OpenAPI document of ``/api/v1/`` and its docs page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from herald.core.api import PROBLEM_CONTENT_TYPE

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(db: Any) -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")  # public: no credentials needed
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    schema: dict[str, Any] = response.json()
    return schema


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_openapi_version_and_info(schema):
    assert re.fullmatch(r"3\.1\.\d+", schema["openapi"])
    assert (schema["info"]["title"], schema["info"]["version"]) == ("Herald API", "1.0.0")
    assert len(_operations(schema)) == 67
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_every_operation_declares_401(schema):
    missing = [f"{m} {p}" for m, p, op in _operations(schema) if "401" not in op["responses"]]
    assert missing == []


def test_every_operation_with_a_path_id_declares_404(schema):
    with_ids = [(m, p, op) for m, p, op in _operations(schema) if re.search(r"\{\w+_id\}", p)]
    assert len(with_ids) == 45
    missing = [f"{m} {p}" for m, p, op in with_ids if "404" not in op["responses"]]
    assert missing == []


def test_error_responses_are_problem_json(schema):
    problem_ref = None
    wrong = []
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            if int(status) >= 400:
                if list(content) != [PROBLEM_CONTENT_TYPE]:
                    wrong.append(f"{method} {path} {status}: {list(content)}")
                    continue
                ref = content[PROBLEM_CONTENT_TYPE]["schema"]["$ref"]
                problem_ref = problem_ref or ref
                if ref != problem_ref:
                    wrong.append(f"{method} {path} {status}: {ref}")
            elif content:
                assert list(content) == ["application/json"], f"{method} {path} {status}"
    assert wrong == []
    assert problem_ref == "#/components/schemas/Problem"
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) >= {"type", "title", "status", "detail", "errors"}
    field_error = schema["components"]["schemas"]["FieldErrorOut"]
    assert set(field_error["required"]) == {"field", "rule", "message"}


def test_security_schemes(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key created in Settings or with `manage.py provision`.",
    }
    assert schemes["MemberSessionAuth"]["in"] == "cookie"
    unsecured = [f"{m} {p}" for m, p, op in _operations(schema) if not op.get("security")]
    assert unsecured == []


def test_media_upload_is_multipart(schema):
    body = schema["paths"]["/api/v1/media"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]


def test_docs_page_renders(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in response.content
    assert b"/api/v1/openapi.json" in response.content


def test_unknown_api_urls_and_wrong_methods_answer_in_problem_json(api: Any) -> None:
    unknown = api.get("no-such-thing")
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/problem+json"
    assert unknown.json()["type"].endswith("/not-found")
    wrong_method = api.put("campaigns", {})
    assert wrong_method.status_code == 405
    assert wrong_method["Content-Type"] == "application/problem+json"
    assert wrong_method.json()["type"].endswith("/method-not-allowed")
    assert sorted(wrong_method["Allow"].split(", ")) == ["GET", "POST"]


def test_every_operation_with_a_body_declares_400_and_413(api: Any) -> None:
    schema = api.get("/api/v1/openapi.json").json()
    with_body = [
        (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert len(with_body) >= 15
    for path, method in with_body:
        responses = schema["paths"][path][method]["responses"]
        assert {"400", "413"} <= set(responses), (method, path)
        assert "application/problem+json" in responses["413"]["content"]
