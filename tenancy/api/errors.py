"""One error body for every API failure: {"error": {"code", "message", "fields"}}.

Codes are stable strings (ApiErrorCode, plus the services' tenancy.errors.ErrorCode), so an
ERP can branch on them; messages are for people and may be translated."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tenancy.dates import date_range_message
from tenancy.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)


class ApiErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    PRECONDITION_REQUIRED = "precondition_required"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_MISMATCH = "idempotency_key_mismatch"
    BULK_INVALID = "bulk_invalid"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    DATE_OUT_OF_RANGE = "date_out_of_range"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = gettext_lazy("Send the ETag you last read as If-Match (or * to overwrite whatever is there); "
                                  "a change made meanwhile by someone else would otherwise be lost.")
    default_code = ApiErrorCode.PRECONDITION_REQUIRED


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy("The resource changed since you read it (If-Match does not match its ETag).")
    default_code = ApiErrorCode.PRECONDITION_FAILED


class IdempotencyKeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("A request with this Idempotency-Key is still being processed; retry later.")
    default_code = ApiErrorCode.IDEMPOTENCY_KEY_IN_USE


class IdempotencyKeyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("This Idempotency-Key was used with a different request; use a new key.")
    default_code = ApiErrorCode.IDEMPOTENCY_KEY_MISMATCH


class InsufficientScope(exceptions.PermissionDenied):
    default_detail = gettext_lazy("This API key lacks the write scope.")
    default_code = ApiErrorCode.INSUFFICIENT_SCOPE


class BulkInvalid(exceptions.APIException):
    """Some rows of a bulk request are invalid; `rows` lists every problem, nothing was written."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = ApiErrorCode.BULK_INVALID

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        super().__init__(_("%(count)s row(s) have errors; nothing was written.") % {"count": len(rows)})


# Business-rule refusals: bad input is a 400, a conflict with the ledger's state a 409.
DOMAIN_STATUS = {
    ErrorCode.PERMISSION_DENIED: status.HTTP_403_FORBIDDEN,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.DUPLICATE: status.HTTP_409_CONFLICT,
    ErrorCode.OVER_APPLICATION: status.HTTP_409_CONFLICT,
    ErrorCode.INSUFFICIENT_FUNDS: status.HTTP_409_CONFLICT,
    ErrorCode.INVOICE_NOT_OPEN: status.HTTP_409_CONFLICT,
    ErrorCode.INVOICE_HAS_APPLICATIONS: status.HTTP_409_CONFLICT,
    ErrorCode.MISSING_FX_RATE: status.HTTP_409_CONFLICT,
    ErrorCode.CREDIT_HOLD: status.HTTP_409_CONFLICT,
    ErrorCode.CONCURRENT_CHANGE: status.HTTP_409_CONFLICT,
}

DRF_CODES = {
    exceptions.ParseError: ApiErrorCode.PARSE_ERROR,
    exceptions.NotAuthenticated: ApiErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ApiErrorCode.AUTHENTICATION_FAILED,
    exceptions.NotFound: ApiErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ApiErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ApiErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ApiErrorCode.THROTTLED,
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": str(code), "message": str(message), "fields": fields or {}, **extra}}


def _field_errors(detail: Any) -> dict[str, Any]:
    """DRF's nested error detail as {field: [{"code", "message"}]}; nested serializers keep nesting."""
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [{"code": item.code, "message": str(item)} for item in detail]  # type: ignore[return-value]
        return {str(i): _field_errors(item) for i, item in enumerate(detail) if item}
    if isinstance(detail, dict):
        return {str(name): _field_errors(value) for name, value in detail.items()}
    return [{"code": getattr(detail, "code", "invalid"), "message": str(detail)}]  # type: ignore[return-value]


def _validation_response(exc: exceptions.ValidationError) -> Response:
    detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    fields = _field_errors(detail)
    first = next(iter(detail.values()), None)
    while isinstance(first, (list, dict)) and first:
        first = first[0] if isinstance(first, list) else next(iter(first.values()))
    message = str(first) if first else _("Invalid input.")
    return Response(error_body(ApiErrorCode.VALIDATION_ERROR, message, fields), status=status.HTTP_400_BAD_REQUEST)


def _domain_response(exc: DomainError) -> Response:
    code = exc.code
    fields = {exc.field: [{"code": str(code), "message": exc.message}]} if exc.field else {}
    if code == ErrorCode.IMPORT_INVALID and hasattr(exc, "errors"):
        rows = [{"index": e.row, "errors": [{"field": e.column, "message": e.message}]} for e in exc.errors]
        return Response(error_body(code, exc.message, fields, rows=rows), status=status.HTTP_400_BAD_REQUEST)
    return Response(error_body(code, exc.message, fields), status=DOMAIN_STATUS.get(code, status.HTTP_400_BAD_REQUEST))


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every failure in the uniform body, headers (Retry-After,
    WWW-Authenticate) kept."""
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc)
    if isinstance(exc, OverflowError):
        # A safety net: every date input is held to the supported range (tenancy/bounds.py), so
        # this is a computed date out of Python's calendar; still the caller's input, not our fault.
        return Response(error_body(ApiErrorCode.DATE_OUT_OF_RANGE, date_range_message()),
                        status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body(ApiErrorCode.SERVER_ERROR, _("Something went wrong on our side; it was logged.")),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    assert isinstance(exc, exceptions.APIException)  # exception_handler answers only these
    code = DRF_CODES.get(type(exc))
    if code is None:
        code = exc.default_code if isinstance(exc.default_code, ApiErrorCode) else (
            ApiErrorCode.PERMISSION_DENIED if isinstance(exc, exceptions.PermissionDenied) else exc.default_code)
    extra = {"rows": exc.rows} if isinstance(exc, BulkInvalid) else {}
    response.data = error_body(code, str(exc.detail), **extra)
    return response
