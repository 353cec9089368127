"""The base of every /api/v1/ view: one place resolves the organization and scopes every query.

It fails closed: no organization, no rows (404); subclasses provide `scoped_queryset` and may
not override `get_queryset`, so no view can forget the organization filter (PostHog's
TeamAndOrgViewSetMixin idea)."""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.response import Response

from tenancy.models import Organization
from tenancy.services import Actor, audit_actor_label

from .auth import ApiKeyPrincipal
from .etag import etag_of, if_match_check
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import (
    idempotency_claim,
    idempotency_complete,
    idempotency_key_parse,
    idempotency_release,
    request_fingerprint,
)
from .pagination import KeysetPagination
from .permissions import HasOrganization, ScopePermission, request_api_key

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATEs for "run the transaction again": serialization_failure, deadlock_detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def transient_database_error(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back and may simply be rerun."""
    cause = exc.__cause__ or exc
    return getattr(cause, "pgcode", None) in RETRYABLE_SQLSTATES or \
        getattr(getattr(cause, "diag", None), "sqlstate", None) in RETRYABLE_SQLSTATES


class OrganizationScopedView:
    """Mixin for any APIView: sets self.organization and self.actor from authentication, runs
    POSTs under Idempotency-Key, and labels audit entries with the API key."""

    permission_classes = [HasOrganization, ScopePermission]
    organization: Organization | None = None
    actor: Actor = None

    def perform_authentication(self, request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        key = request_api_key(request)
        if key is not None:
            self.organization, self.actor = key.organization, None
        else:
            self.organization = getattr(request._request, "organization", None)
            self.actor = request.user if request.user and request.user.is_authenticated else None

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["organization"] = self.organization
        return context

    def dispatch(self, request, *args, **kwargs):
        # APIView.dispatch, with the handler wrapped in idempotency and the audit label.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)  # type: ignore[attr-defined]
        self.request = request
        self.headers = self.default_response_headers  # type: ignore[attr-defined]
        label_token = None
        try:
            self.initial(request, *args, **kwargs)  # type: ignore[attr-defined]
            if isinstance(request.user, ApiKeyPrincipal):
                label_token = audit_actor_label.set(f"{request.user.get_username()} ({request.user.key.name})")
            method = request.method.lower()
            # Only HTTP verbs name handlers: `CREATE` or `GET_OBJECT` must not reach a method of the view.
            if method in self.http_method_names:  # type: ignore[attr-defined]
                handler = getattr(self, method, self.http_method_not_allowed)  # type: ignore[attr-defined]
            else:
                handler = self.http_method_not_allowed  # type: ignore[attr-defined]
            response = self._handle_retrying(handler, request, *args, **kwargs)
        except Exception as exc:  # DRF's contract: every exception becomes a response
            response = self.handle_exception(exc)  # type: ignore[attr-defined]
        finally:
            if label_token is not None:
                audit_actor_label.reset(label_token)
        self.response = self.finalize_response(request, response, *args, **kwargs)  # type: ignore[attr-defined]
        return self.response

    def _handle_retrying(self, handler, request, *args, **kwargs):
        """Run the handler; on a deadlock or serialization failure, run it once more. A safety net:
        the services take row locks in one order (README), but PostgreSQL may still pick this
        transaction as a deadlock's victim, and the whole write was rolled back, so the client
        would get a 500 for nothing. Not inside an outer transaction (it is aborted)."""
        try:
            return self._handle(handler, request, *args, **kwargs)
        except DatabaseError as exc:
            if not transient_database_error(exc) or transaction.get_connection().in_atomic_block:
                raise
            logger.warning("%s %s: %s; running it once more", request.method, request.path, type(exc.__cause__).__name__)
            return self._handle(handler, request, *args, **kwargs)

    def _handle(self, handler, request, *args, **kwargs):
        raw_key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or raw_key is None:
            if request.method in SAFE_METHODS:
                return handler(request, *args, **kwargs)
            # A write is all or nothing, so running it again after a deadlock repeats nothing.
            with transaction.atomic():
                return handler(request, *args, **kwargs)
        key = request_api_key(request)
        principal = f"api-key:{key.pk}" if key is not None else f"user:{request.user.pk}"
        fingerprint = request_fingerprint(request.method, request.get_full_path(), request.body, principal=principal)
        record, replay = idempotency_claim(organization=self.organization, key=idempotency_key_parse(raw_key),
                                           fingerprint=fingerprint)
        if replay is not None:
            return replay
        try:
            with transaction.atomic():
                response = handler(request, *args, **kwargs)
                if response.status_code < 400:
                    idempotency_complete(record, response)
        except BaseException:
            idempotency_release(record)
            raise
        if response.status_code >= 400:
            idempotency_release(record)
        return response


class OrganizationViewSet(OrganizationScopedView, viewsets.GenericViewSet):
    """Base of the resource viewsets. Subclasses define `scoped_queryset(organization)`."""

    pagination_class = KeysetPagination
    default_ordering = "updated_at"
    ordering_fields: tuple[str, ...] = ("updated_at", "id")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: override scoped_queryset(organization), never get_queryset().")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        organization = self.organization
        if organization is None:
            # Schema generation has no request organization: an empty, typed queryset.
            if getattr(self, "swagger_fake_view", False):
                return self.scoped_queryset(Organization(pk=0)).none()
            raise RuntimeError("Organization not resolved: refusing to query.")
        return self.scoped_queryset(organization).filter(organization=organization)

    # --- ETags -------------------------------------------------------------------------
    def respond_with_etag(self, instance, status: int = 200, **headers) -> Response:
        data = self.get_serializer(instance).data
        return Response(data, status=status, headers={"ETag": etag_of(data), **headers})

    # PATCH must say which version it changes (428 without If-Match): a correction made over
    # someone else's change is refused (412), never silently merged. `*` overwrites on purpose.
    if_match_required = True

    def if_match_locked(self, instance) -> None:
        """Check If-Match against the row as it is now; the caller holds its lock."""
        if_match_check(self.request.headers.get("If-Match"), etag_of(self.get_serializer(instance).data),
                       required=self.if_match_required)
