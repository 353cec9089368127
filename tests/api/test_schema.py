"""The OpenAPI schema is generated from the code with zero warnings, and documents every error."""

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        from drf_spectacular.generators import SchemaGenerator

        return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_has_no_warnings_and_validates(tmp_path):
    # --fail-on-warn raises on any warning or error of the generator; --validate checks OpenAPI 3.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/invoices/bulk/" in yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_its_errors(schema):
    for path, method, operation in _operations(schema):
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "429"} <= codes, (path, method)
        if method in ("post", "patch"):
            assert "409" in codes, (path, method)
        for code in codes - {"200", "201"}:
            body = operation["responses"][code]["content"]["application/json"]
            assert body["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method, code)
            assert body["examples"], (path, method, code)


def test_posts_take_idempotency_key_and_patches_if_match(schema):
    for path, method, operation in _operations(schema):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if method == "post":
            assert "Idempotency-Key" in headers, path
            assert "422" in operation["responses"], path
        if method == "patch":
            assert "If-Match" in headers, path
            assert "412" in operation["responses"], path


def test_every_operation_requires_the_api_key(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    for path, method, operation in _operations(schema):
        assert {"ApiKeyAuth": []} in operation["security"], (path, method)


def test_lists_document_cursor_and_updated_since(schema):
    for path in ("/api/v1/customers/", "/api/v1/invoices/", "/api/v1/payments/"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"cursor", "page_size", "ordering", "updated_since"} <= names, path


def test_schema_and_docs_are_served_with_local_assets():
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
