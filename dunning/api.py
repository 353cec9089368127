"""The dunning REST API (/api/v1/): disputes (open, resolve), promises to pay, payment plans,
and the messages dunning sent (read-only evidence).

Thin by rule: validate with a serializer, call the same service as the pages, return. Every
view subclasses tenancy.api.views.OrganizationViewSet, which scopes every query to the
request's organization and fails closed."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from tenancy.api.views import OrganizationViewSet
from tenancy.models import Organization

from . import services
from .models import (
    Dispute,
    DisputeStatus,
    DunningMessage,
    DunningNotice,
    PaymentPlan,
    PlanStatus,
    PromiseStatus,
    PromiseToPay,
    Source,
)
from .serializers import (
    DisputeOpenSerializer,
    DisputeResolveSerializer,
    DisputeSerializer,
    DunningMessageSerializer,
    PaymentPlanCreateSerializer,
    PaymentPlanSerializer,
    PromiseCreateSerializer,
    PromiseSerializer,
)

ETAG_NOTE = "The response carries an ETag."


def _validated(serializer_class, view, data) -> dict:
    serializer = serializer_class(data=data, context=view.get_serializer_context())
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- filters ---------------------------------------------------------------------------------


class DisputeFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DisputeStatus.choices)
    customer = filters.NumberFilter(field_name="customer_id")
    invoice = filters.NumberFilter(field_name="invoice_id")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                              help_text="Only disputes changed at or after this instant.")

    class Meta:
        model = Dispute
        fields = ()


class PromiseFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PromiseStatus.choices)
    customer = filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = PromiseToPay
        fields = ()


class PlanFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PlanStatus.choices)
    customer = filters.NumberFilter(field_name="customer_id")

    class Meta:
        model = PaymentPlan
        fields = ()


class MessageFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id")
    sent_since = filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte",
                                           help_text="Only messages sent at or after this instant.")

    class Meta:
        model = DunningMessage
        fields = ()


# --- the base --------------------------------------------------------------------------------


class DunningViewSet(mixins.ListModelMixin, OrganizationViewSet):
    http_method_names = ["get", "post", "head", "options"]
    default_ordering = "created_at"
    # Route any id to the view, so a malformed one is the API's JSON 404, not the site's HTML page.
    lookup_value_regex = r"[^/]+"

    def retrieve(self, request, pk=None):
        return self.respond_with_etag(self.get_object())

    def created(self, instance) -> Response:
        location = reverse(f"api:{self.basename}-detail", kwargs={"pk": instance.pk})
        fresh = self.get_queryset().get(pk=instance.pk)  # with its prefetches, as a read would show it
        return self.respond_with_etag(fresh, status=201, Location=location)


# --- disputes --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Disputes, newest change last; filter by status, customer or invoice."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=DisputeOpenSerializer, responses={201: DisputeSerializer},
                         description="Dispute an invoice, or part of its balance: dunning pauses on the disputed "
                                     "amount. Emits dispute.opened."),
)
class DisputeViewSet(DunningViewSet):
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter
    default_ordering = "updated_at"
    ordering_fields = ("updated_at", "id", "opened_on", "due_on")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return Dispute.objects.filter(organization=organization).select_related("invoice")

    def create(self, request):
        fields = _validated(DisputeOpenSerializer, self, request.data)
        dispute = services.dispute_open(organization=self.organization, actor=self.actor, source=Source.API,
                                        **fields)
        return self.created(dispute)

    @extend_schema(request=DisputeResolveSerializer, responses=DisputeSerializer,
                   description="Close an open dispute: credit_note (a credit note is issued and applied), "
                               "corrected or rejected (dunning resumes). Emits dispute.resolved.")
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        fields = _validated(DisputeResolveSerializer, self, request.data)
        dispute = services.dispute_resolve(organization=self.organization, actor=self.actor,
                                           dispute=self.get_object(), **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=dispute.pk))


# --- promises --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Promises to pay with their status (open, kept, broken), newest last."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=PromiseCreateSerializer, responses={201: PromiseSerializer},
                         description="Record a promise to pay: the invoices are not dunned until the promised date "
                                     "plus the grace days. Kept or broken is decided from payments received; a "
                                     "broken promise emits promise.broken."),
)
class PromiseViewSet(DunningViewSet):
    serializer_class = PromiseSerializer
    filterset_class = PromiseFilter
    ordering_fields = ("created_at", "id", "promised_date")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return PromiseToPay.objects.filter(organization=organization).prefetch_related("invoices")

    def create(self, request):
        fields = _validated(PromiseCreateSerializer, self, request.data)
        promise = services.promise_create(organization=self.organization, actor=self.actor, source=Source.API,
                                          **fields)
        return self.created(promise)


# --- payment plans ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Payment plans with their installments, newest last."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=PaymentPlanCreateSerializer, responses={201: PaymentPlanSerializer},
                         description="Agree installments over a customer's invoices. Their principal parts add up "
                                     "to the covered balance (equal parts when left out); interest on the declining "
                                     "balance is added per installment and billed as a charges invoice."),
)
class PaymentPlanViewSet(DunningViewSet):
    serializer_class = PaymentPlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ("created_at", "id", "start_date")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return PaymentPlan.objects.filter(organization=organization).prefetch_related("invoices", "installments")

    def create(self, request):
        fields = _validated(PaymentPlanCreateSerializer, self, request.data)
        installments = [(row["due_date"], row.get("amount")) for row in fields.pop("installments")]
        plan = services.payment_plan_create(organization=self.organization, actor=self.actor,
                                            installments=installments, **fields)
        return self.created(plan)


# --- messages sent ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Messages dunning recorded, with the exact content and its hash and the "
                                   "invoice notices each carried (evidence: read-only)."),
    retrieve=extend_schema(description=ETAG_NOTE),
)
class DunningMessageViewSet(DunningViewSet):
    serializer_class = DunningMessageSerializer
    filterset_class = MessageFilter
    http_method_names = ["get", "head", "options"]
    ordering_fields = ("created_at", "id")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        notices = DunningNotice.objects.filter(organization=organization).select_related("invoice").order_by("pk")
        return (DunningMessage.objects.filter(organization=organization).select_related("run")
                .defer("letter_pdf", "body_html").prefetch_related(Prefetch("notices", queryset=notices)))
