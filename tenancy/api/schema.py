"""The OpenAPI schema: every operation lists its error responses (one body shape, examples
per status) and its headers (Idempotency-Key on POST, If-Match on PATCH)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from .errors import ApiErrorCode
from .idempotency import HEADER as IDEMPOTENCY_HEADER

FIELD_PROBLEMS = {"type": "array", "items": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}


@extend_schema_field({"oneOf": [FIELD_PROBLEMS, {"type": "object", "additionalProperties": True,
                                                 "description": "Nested input: the same shape, per key or index."}]})
class FieldProblemsField(serializers.JSONField):
    pass


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0-based position of the row in the request.")
    errors = inline_serializer("BulkRowProblem", {
        "field": serializers.CharField(allow_blank=True), "code": serializers.CharField(),
        "message": serializers.CharField()}, many=True)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. validation_error, not_found, "
                                           "precondition_failed, idempotency_key_mismatch, over_application.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=FieldProblemsField(), required=False,
        help_text="Per-field problems: {field: [{code, message}]}; nested for nested input.")
    rows = RowErrorSerializer(many=True, required=False, help_text="Bulk requests only: every invalid row.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def _example(status: int, code: str, message: str, fields: dict | None = None) -> OpenApiExample:
    return OpenApiExample(code, value={"error": {"code": code, "message": message, "fields": fields or {}}},
                          status_codes=[str(status)], response_only=True)


ERRORS: dict[int, tuple[str, list[OpenApiExample]]] = {
    400: ("Invalid input; nothing was changed.", [_example(
        400, ApiErrorCode.VALIDATION_ERROR, "This field is required.",
        {"number": [{"code": "required", "message": "This field is required."}]})]),
    401: ("Missing, invalid or revoked API key.", [_example(401, ApiErrorCode.AUTHENTICATION_FAILED,
                                                            "Invalid or revoked API key.")]),
    403: ("The key lacks the scope, or the user the role.", [_example(
        403, ApiErrorCode.INSUFFICIENT_SCOPE, "This API key lacks the write scope.")]),
    404: ("No such object in your organization.", [_example(404, ApiErrorCode.NOT_FOUND, "Not found.")]),
    409: ("Conflicts with the ledger's state, or the Idempotency-Key is in use.", [
        _example(409, "over_application", "Invoice INV-1 has 100.00 CNY outstanding; 150.00 cannot be applied."),
        _example(409, ApiErrorCode.IDEMPOTENCY_KEY_IN_USE,
                 "A request with this Idempotency-Key is still being processed; retry later.")]),
    412: ("If-Match does not match the current ETag.", [_example(
        412, ApiErrorCode.PRECONDITION_FAILED,
        "The resource changed since you read it (If-Match does not match its ETag).")]),
    428: ("If-Match is missing.", [_example(
        428, ApiErrorCode.PRECONDITION_REQUIRED,
        "Send the ETag you last read as If-Match (or * to overwrite whatever is there); a change made meanwhile "
        "by someone else would otherwise be lost.")]),
    422: ("The Idempotency-Key was used with a different request.", [_example(
        422, ApiErrorCode.IDEMPOTENCY_KEY_MISMATCH,
        "This Idempotency-Key was used with a different request; use a new key.")]),
    429: ("Rate limit exceeded; see Retry-After.", [_example(
        429, ApiErrorCode.THROTTLED, "Request was throttled. Expected available in 12 seconds.")]),
}
READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 429)


class InflowAutoSchema(AutoSchema):
    def _error_statuses(self) -> tuple[int, ...]:
        if self.method == "GET":
            return READ_ERRORS
        extra = (422,) if self.method == "POST" else (412, 428) if self.method == "PATCH" else ()
        return tuple(sorted({*WRITE_ERRORS, *extra}))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if str(status) not in responses:
                description, examples = ERRORS[status]
                responses[str(status)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description, examples=examples), str(status),
                    media_types=("application/json",), direction=direction)
        return responses

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(OpenApiParameter(
                IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                description="Makes the POST safe to retry: the same key and body replay the first response for "
                            "24 hours (header Idempotent-Replayed: true); a different body is a 422; while the "
                            "first is running, 409."))
        if self.method == "PATCH":
            params.append(OpenApiParameter(
                "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                description="The ETag from your last read; a stale one gets 412 and changes nothing, a missing "
                            "one 428. `*` overwrites whatever is there."))
        return params

    def _resolve_path_parameters(self, variables):
        # Any id is routed to the view (so a bad one gets the JSON 404); document it as the integer it is.
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] == "id":
                parameter["schema"] = {"type": "integer"}
        return parameters
