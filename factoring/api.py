"""The factoring REST API (/api/v1/factoring/): facilities and their eligibility, assignments
(create, submit, approve, fund, repurchase, cancel) and the factor's statement import.

Thin by rule: validate with a serializer, call the same service or selector as the pages,
return. Every view subclasses tenancy.api.views.OrganizationViewSet, which scopes every query to
the request's organization and fails closed. An assignment that names an ineligible or already
assigned invoice is refused whole: 409 when one is already assigned, else 400, with each invoice
and its reasons under error.invoices."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from tenancy.api.errors import error_body
from tenancy.api.views import OrganizationViewSet
from tenancy.dates import local_today
from tenancy.errors import ErrorCode
from tenancy.models import Organization

from . import selectors, services
from .models import Assignment, AssignmentLine, Facility, LineState, Sublimit
from .serializers import (
    FACILITY_CHANGE_EXAMPLE,
    FACILITY_CREATE_EXAMPLE,
    FACILITY_EXAMPLE,
    AssignmentCreateSerializer,
    AssignmentSerializer,
    AvailabilitySerializer,
    EligibilitySerializer,
    FacilitySerializer,
    FundSerializer,
    RepurchaseSerializer,
    StatementResultSerializer,
    StatementSerializer,
    SublimitSerializer,
)

# An operation's own examples replace its serializers': the facility writes repeat the facility's.
FACILITY_RESPONSE = OpenApiExample("HSBC facility", response_only=True, value=FACILITY_EXAMPLE)


def _validated(serializer_class, view, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, context=view.get_serializer_context(), **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _refused(exc: services.AssignmentRefused) -> Response:
    code = status.HTTP_409_CONFLICT if exc.code == ErrorCode.DUPLICATE else status.HTTP_400_BAD_REQUEST
    return Response(error_body(exc.code, exc.message, invoices=exc.invoices), status=code)


class FactoringViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationViewSet):
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"[^/]+"
    default_ordering = "id"
    ordering_fields: tuple[str, ...] = ("id", "updated_at")

    def retrieve(self, request, pk=None):
        return self.respond_with_etag(self.get_object())

    def created(self, instance):
        location = reverse(f"api:{self.basename}-detail", kwargs={"pk": instance.pk})
        return self.respond_with_etag(instance, status=201, Location=location)


@extend_schema_view(
    list=extend_schema(description="Facilities with their terms, exclusions and sub-limits."),
    create=extend_schema(request=FacilitySerializer, responses={201: FacilitySerializer},
                         examples=[OpenApiExample("A second facility", request_only=True,
                                                  value=FACILITY_CREATE_EXAMPLE), FACILITY_RESPONSE],
                         description="Set up a facility (admins): advance, fee and interest rates as decimal "
                                     "strings, the eligibility rules and the approval threshold."),
    partial_update=extend_schema(request=FacilitySerializer, responses=FacilitySerializer,
                                 examples=[OpenApiExample("Raise the limit", request_only=True,
                                                          value=FACILITY_CHANGE_EXAMPLE), FACILITY_RESPONSE],
                                 description="Change a facility's terms (admins); send If-Match."),
)
class FacilityViewSet(FactoringViewSet):
    """Facilities (one per agreement with a factor or bank): admins set them up and change them."""

    serializer_class = FacilitySerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return (Facility.objects.filter(organization=organization)
                .prefetch_related("excluded_customers",
                                  Prefetch("sublimits", queryset=Sublimit.objects.order_by("customer_id"))))

    def create(self, request):
        fields = _validated(FacilitySerializer, self, request.data)
        facility = services.facility_create(organization=self.organization, actor=self.actor, **fields)
        return self.created(self.get_queryset().get(pk=facility.pk))

    @transaction.atomic
    def partial_update(self, request, pk=None):
        facility = get_object_or_404(self.get_queryset().select_for_update(of=("self",), no_key=True), pk=pk)
        changes = _validated(FacilitySerializer, self, request.data, partial=True)
        self.if_match_locked(facility)
        services.facility_update(organization=self.organization, actor=self.actor, facility=facility, **changes)
        return self.respond_with_etag(self.get_queryset().get(pk=facility.pk))

    @extend_schema(request=SublimitSerializer, responses=FacilitySerializer,
                   description="Set one customer's sub-limit within the facility.")
    @action(detail=True, methods=["post"])
    def sublimits(self, request, pk=None):
        facility = self.get_object()
        fields = _validated(SublimitSerializer, self, request.data)
        services.sublimit_set(organization=self.organization, actor=self.actor, facility=facility,
                              customer=fields["customer"], limit=fields["limit"])
        return self.respond_with_etag(self.get_queryset().get(pk=facility.pk))

    @extend_schema(parameters=[OpenApiParameter("as_of", str, description="YYYY-MM-DD; default today"),
                               OpenApiParameter("eligible", bool, description="only the eligible (true) or the "
                                                                             "ineligible (false) invoices")],
                   responses=EligibilitySerializer,
                   description="The facility's availability on as_of and every open invoice with its eligibility, "
                               "reasons and advance, oldest due first.")
    @action(detail=True, methods=["get"])
    def eligibility(self, request, pk=None):
        facility = self.get_object()
        raw = request.query_params.get("as_of")
        try:
            as_of = dt.date.fromisoformat(raw) if raw else local_today(self.organization.timezone)
        except ValueError:
            raise ValidationError({"as_of": [_("Give the date as YYYY-MM-DD.")]}) from None
        result = selectors.eligibility(self.organization, facility, as_of)
        wanted = request.query_params.get("eligible")
        rows = result.rows if wanted not in ("true", "false") else [
            row for row in result.rows if row.eligible == (wanted == "true")]
        invoices = [{"invoice": row.invoice_id, "number": row.number, "customer": row.customer_id,
                     "currency": row.currency, "due_date": row.due_date, "days_past_due": row.days_past_due,
                     "balance": str(row.balance), "eligible": row.eligible, "reasons": row.reason_messages(),
                     "advance_amount": str(row.advance_amount)}
                    for row in sorted(rows, key=lambda row: (row.due_date, row.invoice_id))]
        return Response({"facility": facility.pk, "as_of": as_of,
                         "availability": AvailabilitySerializer(result.availability).data, "invoices": invoices})

    @extend_schema(request=StatementSerializer, responses={201: StatementResultSerializer},
                   description="Import the factor's statement (CSV): collections, fees, interest, repurchases. All "
                               "rows or none (400 naming each row and column); a file imported once (409).")
    @action(detail=True, methods=["post"], url_path="statements")
    def statements(self, request, pk=None):
        facility = self.get_object()
        fields = _validated(StatementSerializer, self, request.data)
        try:
            statement = services.statement_import(organization=self.organization, actor=self.actor,
                                                  facility=facility, file_name=fields["file_name"],
                                                  content=fields["csv"].encode())
        except services.StatementInvalid as exc:
            rows = [{"row": row, "column": column, "message": message} for row, column, message in exc.rows]
            return Response(error_body(exc.code, exc.message, rows=rows), status=status.HTTP_400_BAD_REQUEST)
        return Response({"id": statement.pk, "file_name": statement.file_name, "rows": statement.row_count},
                        status=201)


@extend_schema_view(
    list=extend_schema(description="Assignment schedules with their lines and totals."),
    create=extend_schema(request=AssignmentCreateSerializer, responses={201: AssignmentSerializer},
                         description="A draft assignment of eligible invoices (with submit: sent at once). An "
                                     "ineligible invoice refuses the whole schedule (400), an already assigned one "
                                     "too (409), each named with its reasons under error.invoices."),
)
class AssignmentViewSet(FactoringViewSet):
    """Assignment schedules: POST {facility, invoices, assigned_on} makes a draft; then submit,
    approve (admins, above the facility's threshold), fund, repurchase, cancel."""

    serializer_class = AssignmentSerializer

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        lines = AssignmentLine.objects.filter(organization=organization).select_related("invoice").order_by("pk")
        return (Assignment.objects.filter(organization=organization)
                .prefetch_related(Prefetch("lines", queryset=lines)))

    def create(self, request):
        fields = _validated(AssignmentCreateSerializer, self, request.data)
        try:
            with transaction.atomic():
                assignment = services.assignment_create(
                    organization=self.organization, actor=self.actor, facility=fields["facility"],
                    invoices=fields["invoices"], assigned_on=fields["assigned_on"])
                if fields["submit"]:
                    services.assignment_submit(organization=self.organization, actor=self.actor,
                                               assignment=assignment)
        except services.AssignmentRefused as exc:
            return _refused(exc)
        return self.created(self.get_queryset().get(pk=assignment.pk))

    def _transition(self, service, assignment=None, **kwargs):
        # The object first: another organization's id is a 404 whatever the body says.
        assignment = assignment or self.get_object()
        service(organization=self.organization, actor=self.actor, assignment=assignment, **kwargs)
        return self.respond_with_etag(self.get_queryset().get(pk=assignment.pk))

    @extend_schema(request=None, responses=AssignmentSerializer,
                   description="Send a draft to the factor; above the facility's approval threshold it waits for an admin.")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(services.assignment_submit)

    @extend_schema(request=None, responses=AssignmentSerializer,
                   description="An admin (a person, not an API key or the submitter) approves a submission above it.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(services.assignment_approve)

    @extend_schema(request=None, responses=AssignmentSerializer,
                   description="Cancel a schedule that was not funded.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(services.assignment_cancel)

    @extend_schema(request=FundSerializer, responses=AssignmentSerializer,
                   description="The factor's payment of the advances: amount received + fee + interest deducted "
                               "must equal the schedule's advances.")
    @action(detail=True, methods=["post"])
    def fund(self, request, pk=None):
        assignment = self.get_object()
        fields = _validated(FundSerializer, self, request.data)
        return self._transition(services.assignment_fund, assignment, **fields)

    @extend_schema(request=RepurchaseSerializer, responses=AssignmentSerializer,
                   description="Take an assigned invoice back (recourse): the advance outstanding plus interest "
                               "to that day is repaid.")
    @action(detail=True, methods=["post"])
    def repurchase(self, request, pk=None):
        assignment = self.get_object()
        fields = _validated(RepurchaseSerializer, self, request.data)
        line = get_object_or_404(AssignmentLine.objects.filter(organization=self.organization, assignment=assignment,
                                                               invoice_id=fields["invoice"], state=LineState.ASSIGNED))
        services.line_repurchase(organization=self.organization, actor=self.actor, line=line,
                                 repurchased_on=fields["repurchased_on"], note=fields["note"])
        return self.respond_with_etag(self.get_queryset().get(pk=assignment.pk))
