"""The credit REST API (/api/v1/credit-...): credit files, financial statements, external
signals, limit requests with their approvals, scores with their factor breakdown, alerts.

Thin by rule: validate with a serializer, call the same credit service or selector as the UI,
return. Every view subclasses tenancy.api.views.OrganizationViewSet, which scopes every query
to the request's organization and fails closed. Limit decisions need a person: an API key is
the trusted system, not a credit manager, so approving or rejecting takes a session."""

from __future__ import annotations

import django_filters as filters
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from tenancy.api.views import OrganizationViewSet
from tenancy.models import Organization

from . import services
from .models import (
    AlertKind,
    CreditAlert,
    CreditProfile,
    CreditScore,
    ExternalSignal,
    FinancialStatement,
    LimitApprovalStep,
    LimitRequest,
    LimitRequestStatus,
    SignalKind,
)
from .serializers import (
    BlacklistSerializer,
    CreditAlertSerializer,
    CreditProfileCreateSerializer,
    CreditProfileSerializer,
    CreditProfileWriteSerializer,
    CreditScoreSerializer,
    ExternalSignalSerializer,
    ExternalSignalWriteSerializer,
    FinancialStatementSerializer,
    FinancialStatementWriteSerializer,
    LimitApproveSerializer,
    LimitRejectSerializer,
    LimitRequestSerializer,
    LimitRequestWriteSerializer,
)

ETAG_NOTE = "The response carries an ETag; send it back in If-Match on PATCH."
DECISION_NOTE = ("Needs a signed-in person with the level's role (session); an API key is the system and gets 403. "
                 "The person who proposed the limit, or approved an earlier level, cannot decide this one.")


def _validated(serializer_class, view, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, context=view.get_serializer_context(), partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- filters ---------------------------------------------------------------------------------

def _customer_filter(field: str = "customer_id") -> filters.NumberFilter:
    return filters.NumberFilter(field_name=field, help_text=_("Only this customer's rows (customer id)."))


class CreditProfileFilter(filters.FilterSet):
    customer = _customer_filter()
    blacklisted = filters.BooleanFilter()
    grade = filters.ChoiceFilter(field_name="latest_score__grade", choices=[(g, g) for g in "ABCDE"],
                                 help_text=_("Grade of the latest score."))
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                              help_text=_("Only files changed at or after this instant."))

    class Meta:
        model = CreditProfile
        fields = ()


class FinancialStatementFilter(filters.FilterSet):
    customer = _customer_filter("profile__customer_id")
    year = filters.NumberFilter()

    class Meta:
        model = FinancialStatement
        fields = ()


class ExternalSignalFilter(filters.FilterSet):
    customer = _customer_filter("profile__customer_id")
    kind = filters.ChoiceFilter(choices=SignalKind.choices)
    observed_from = filters.DateFilter(field_name="observed_on", lookup_expr="gte")

    class Meta:
        model = ExternalSignal
        fields = ()


class LimitRequestFilter(filters.FilterSet):
    customer = _customer_filter()
    status = filters.ChoiceFilter(choices=LimitRequestStatus.choices)

    class Meta:
        model = LimitRequest
        fields = ()


class CreditScoreFilter(filters.FilterSet):
    customer = _customer_filter()
    as_of_from = filters.DateFilter(field_name="as_of", lookup_expr="gte")
    as_of_to = filters.DateFilter(field_name="as_of", lookup_expr="lte")

    class Meta:
        model = CreditScore
        fields = ()


class CreditAlertFilter(filters.FilterSet):
    customer = _customer_filter()
    kind = filters.ChoiceFilter(choices=AlertKind.choices)
    created_since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = CreditAlert
        fields = ()


# --- base ------------------------------------------------------------------------------------

class CreditViewSet(mixins.ListModelMixin, OrganizationViewSet):
    http_method_names = ["get", "post", "head", "options"]
    # Route any id to the view, so a malformed one is the API's JSON 404, not the site's HTML page.
    lookup_value_regex = r"[^/]+"
    default_ordering = "id"
    ordering_fields: tuple[str, ...] = ("id", "created_at")

    def retrieve(self, request, pk=None):
        return self.respond_with_etag(self.get_object())

    def created(self, instance):
        location = reverse(f"api:{self.basename}-detail", kwargs={"pk": instance.pk})
        return self.respond_with_etag(instance, status=201, Location=location)


# --- credit files ----------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(description="Credit files (one per customer) with limit, terms, blacklist state and the "
                                   "latest score; filter by customer or grade."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=CreditProfileCreateSerializer,
                         responses={201: CreditProfileSerializer, 200: CreditProfileSerializer},
                         description="Create the customer's credit file (201) or update the registry data of the "
                                     "existing one (200). Limits change only through limit requests."),
    partial_update=extend_schema(request=CreditProfileWriteSerializer, responses=CreditProfileSerializer,
                                 description="Correct registry data. Send If-Match."),
)
class CreditProfileViewSet(CreditViewSet):
    serializer_class = CreditProfileSerializer
    filterset_class = CreditProfileFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    default_ordering = "updated_at"
    ordering_fields = ("updated_at", "id", "next_review_on")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return CreditProfile.objects.filter(organization=organization).select_related("customer", "latest_score")

    @transaction.atomic
    def create(self, request):
        fields = _validated(CreditProfileCreateSerializer, self, request.data)
        customer = fields.pop("customer")
        existed = CreditProfile.objects.filter(organization=self.organization, customer=customer).exists()
        if fields or not existed:
            services.profile_update(organization=self.organization, actor=self.actor, customer=customer, **fields)
        profile = self.get_queryset().get(customer=customer)
        return self.respond_with_etag(profile) if existed else self.created(profile)

    @transaction.atomic
    def partial_update(self, request, pk=None):
        profile = get_object_or_404(self.get_queryset().select_for_update(of=("self",), no_key=True), pk=pk)
        changes = _validated(CreditProfileWriteSerializer, self, request.data, partial=True)
        self.if_match_locked(profile)
        services.profile_update(organization=self.organization, actor=self.actor, customer=profile.customer,
                                **changes)
        return self.respond_with_etag(self.get_queryset().get(pk=profile.pk))

    @extend_schema(request=BlacklistSerializer, responses=CreditProfileSerializer,
                   description="Put the customer on the blacklist (with a reason) or take it off; a blacklisted "
                               "customer is on credit hold. Sessions need the credit manager role.")
    @action(detail=True, methods=["post"])
    def blacklist(self, request, pk=None):
        profile = self.get_object()
        fields = _validated(BlacklistSerializer, self, request.data)
        services.blacklist_set(organization=self.organization, actor=self.actor, customer=profile.customer,
                               blacklisted=fields["blacklisted"], reason=fields.get("reason", ""))
        return self.respond_with_etag(self.get_queryset().get(pk=profile.pk))

    @extend_schema(request=None, responses={201: CreditScoreSerializer},
                   description="Score the customer now from its ledger and credit file; returns the new score "
                               "with its factor breakdown.")
    @action(detail=True, methods=["post"])
    def score(self, request, pk=None):
        profile = self.get_object()
        score = services.customer_score(organization=self.organization, customer=profile.customer, actor=self.actor)
        location = reverse("api:credit-score-detail", kwargs={"pk": score.pk})
        return Response(CreditScoreSerializer(score).data, status=201, headers={"Location": location})


# --- financial statements and signals --------------------------------------------------------

@extend_schema_view(
    list=extend_schema(description="Financial statements by year (base currency); filter by customer."),
    create=extend_schema(request=FinancialStatementWriteSerializer, responses={201: FinancialStatementSerializer},
                         description="Record one fiscal year's figures; sending the same customer and year again "
                                     "corrects them. The next score uses the most recent year (Altman Z / Z'')."),
)
class FinancialStatementViewSet(CreditViewSet):
    serializer_class = FinancialStatementSerializer
    filterset_class = FinancialStatementFilter
    ordering_fields = ("id", "created_at", "year")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return FinancialStatement.objects.filter(organization=organization).select_related("profile")

    def create(self, request):
        fields = _validated(FinancialStatementWriteSerializer, self, request.data)
        statement = services.financial_statement_set(organization=self.organization, actor=self.actor, **fields)
        return self.created(self.get_queryset().get(pk=statement.pk))


@extend_schema_view(
    list=extend_schema(description="External signals (litigation, registry changes, negative news, insurer "
                                   "grades), newest first by default; filter by customer or kind."),
    create=extend_schema(request=ExternalSignalWriteSerializer, responses={201: ExternalSignalSerializer},
                         description="Record a signal from your data provider; it raises a credit.alert and counts "
                                     "in the next score for 12 months."),
)
class ExternalSignalViewSet(CreditViewSet):
    serializer_class = ExternalSignalSerializer
    filterset_class = ExternalSignalFilter
    ordering_fields = ("id", "created_at", "observed_on")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return ExternalSignal.objects.filter(organization=organization).select_related("profile")

    def create(self, request):
        fields = _validated(ExternalSignalWriteSerializer, self, request.data)
        signal = services.signal_record(organization=self.organization, actor=self.actor, source="api", **fields)
        return self.created(self.get_queryset().get(pk=signal.pk))


# --- limit requests --------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(description="Limit requests with their approval steps; filter by status or customer."),
    create=extend_schema(request=LimitRequestWriteSerializer, responses={201: LimitRequestSerializer},
                         description="Propose a new limit and terms. Up to the organization's threshold a credit "
                                     "manager approves; above it an admin approves after the credit manager. One "
                                     "pending request per customer (409 otherwise)."),
)
class LimitRequestViewSet(CreditViewSet):
    serializer_class = LimitRequestSerializer
    filterset_class = LimitRequestFilter

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        steps = LimitApprovalStep.objects.filter(organization=organization).select_related("actor")
        return (LimitRequest.objects.filter(organization=organization).select_related("score")
                .prefetch_related(Prefetch("steps", queryset=steps)))

    def create(self, request):
        fields = _validated(LimitRequestWriteSerializer, self, request.data)
        limit_request = services.limit_request_create(organization=self.organization, actor=self.actor, **fields)
        return self.created(self.get_queryset().get(pk=limit_request.pk))

    @extend_schema(request=LimitApproveSerializer, responses=LimitRequestSerializer,
                   description="Approve the request's next level; the last level applies the limit and terms and "
                               "emits credit.limit_changed. " + DECISION_NOTE)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        limit_request = self.get_object()
        fields = _validated(LimitApproveSerializer, self, request.data)
        services.limit_request_approve(organization=self.organization, actor=self.actor, request=limit_request,
                                       comment=fields["comment"])
        return self.respond_with_etag(self.get_queryset().get(pk=pk))

    @extend_schema(request=LimitRejectSerializer, responses=LimitRequestSerializer,
                   description="Reject the request at its current level, with a reason. " + DECISION_NOTE)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        limit_request = self.get_object()
        fields = _validated(LimitRejectSerializer, self, request.data)
        services.limit_request_reject(organization=self.organization, actor=self.actor, request=limit_request,
                                      reason=fields["reason"])
        return self.respond_with_etag(self.get_queryset().get(pk=pk))


# --- scores and alerts (read only) -----------------------------------------------------------

@extend_schema_view(
    list=extend_schema(description="Score history, with each score's factors (value and points), inputs, weights "
                                   "and bands: every score can be reproduced from what is stored."),
)
class CreditScoreViewSet(CreditViewSet):
    serializer_class = CreditScoreSerializer
    filterset_class = CreditScoreFilter
    http_method_names = ["get", "head", "options"]
    ordering_fields = ("id", "created_at", "as_of")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return CreditScore.objects.filter(organization=organization)


@extend_schema_view(
    list=extend_schema(description="Credit alerts (over limit, grade dropped, new signal, first overdue, "
                                   "concentration, invoiced on hold), the same ones sent as credit.alert events."),
)
class CreditAlertViewSet(CreditViewSet):
    serializer_class = CreditAlertSerializer
    filterset_class = CreditAlertFilter
    http_method_names = ["get", "head", "options"]

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return CreditAlert.objects.filter(organization=organization).select_related("customer")
