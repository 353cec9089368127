"""The insurance REST API (/api/v1/insurance/...): policies, cover requests and their decisions,
deadlines as of any date, declarations, claims (with the expected indemnity and each step).

Thin by rule: validate with a serializer, call the same service or selector as the pages, return.
Every view is scoped to the request's organization by tenancy.api.views (fails closed)."""

from __future__ import annotations

import django_filters as filters
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response

from tenancy.api.views import OrganizationScopedView, OrganizationViewSet
from tenancy.dates import local_today
from tenancy.models import Organization

from . import selectors, services
from .callbacks import callback_path
from .claim_file import claim_file_zip
from .models import (
    Claim,
    ClaimInvoice,
    ClaimStatus,
    CoverRequest,
    Declaration,
    DeclarationInvoice,
    DeclarationKind,
    Policy,
    RequestStatus,
)
from .serializers import (
    POLICY_CHANGE_EXAMPLE,
    POLICY_CREATE_EXAMPLE,
    POLICY_EXAMPLE,
    ClaimDecideSerializer,
    ClaimFileSerializer,
    ClaimPaySerializer,
    ClaimRecoveryWriteSerializer,
    ClaimSerializer,
    ClaimWriteSerializer,
    CoverDecisionSerializer,
    CoverRequestSerializer,
    CoverRequestWriteSerializer,
    DeadlineRowSerializer,
    DeclarationSerializer,
    DeclarationWriteSerializer,
    PolicySerializer,
    PolicyWriteSerializer,
)


def _validated(serializer_class, view, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, context=view.get_serializer_context(), partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CustomerFilter(filters.FilterSet):
    customer = filters.NumberFilter(field_name="customer_id", help_text=_("Only this customer's rows."))


class CoverRequestFilter(CustomerFilter):
    status = filters.ChoiceFilter(choices=RequestStatus.choices)
    policy = filters.NumberFilter(field_name="policy_id")

    class Meta:
        model = CoverRequest
        fields = ()


class DeclarationFilter(CustomerFilter):
    kind = filters.ChoiceFilter(choices=DeclarationKind.choices)

    class Meta:
        model = Declaration
        fields = ()


class ClaimFilter(CustomerFilter):
    status = filters.ChoiceFilter(choices=ClaimStatus.choices)

    class Meta:
        model = Claim
        fields = ()


class InsuranceViewSet(mixins.ListModelMixin, OrganizationViewSet):
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = r"[^/]+"
    default_ordering = "id"
    ordering_fields: tuple[str, ...] = ("id", "created_at")

    def retrieve(self, request, pk=None):
        return self.respond_with_etag(self.get_object())

    def created(self, instance):
        location = reverse(f"api:{self.basename}-detail", kwargs={"pk": instance.pk})
        return self.respond_with_etag(instance, status=201, Location=location)


# An operation's own examples replace its serializers': the policy writes repeat the policy's.
POLICY_RESPONSE = OpenApiExample("2026 policy", response_only=True, value=POLICY_EXAMPLE)


@extend_schema_view(
    list=extend_schema(description="Credit-insurance policies with their terms and deadlines."),
    create=extend_schema(request=PolicyWriteSerializer, responses={201: PolicySerializer},
                         examples=[OpenApiExample("2027 policy", request_only=True, value=POLICY_CREATE_EXAMPLE),
                                   POLICY_RESPONSE],
                         description="Record a policy (admins). Days count from the original due date."),
    partial_update=extend_schema(request=PolicyWriteSerializer, responses=PolicySerializer,
                                 examples=[OpenApiExample("Warn earlier, higher threshold", request_only=True,
                                                          value=POLICY_CHANGE_EXAMPLE), POLICY_RESPONSE],
                                 description="Change a policy's terms (admins); audited with before and after."),
)
class PolicyViewSet(InsuranceViewSet):
    serializer_class = PolicySerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return Policy.objects.filter(organization=organization).prefetch_related("excluded_customers")

    def create(self, request):
        fields = _validated(PolicyWriteSerializer, self, request.data)
        policy = services.policy_create(organization=self.organization, actor=self.actor, **fields)
        return self.created(self.get_queryset().get(pk=policy.pk))

    def partial_update(self, request, pk=None):
        policy = self.get_object()
        changes = _validated(PolicyWriteSerializer, self, request.data, partial=True)
        services.policy_update(organization=self.organization, actor=self.actor, policy=policy, **changes)
        return self.respond_with_etag(self.get_queryset().get(pk=policy.pk))


@extend_schema_view(
    list=extend_schema(description="Buyer cover requests and the insurer's decisions, newest first by default."),
    create=extend_schema(request=CoverRequestWriteSerializer, responses={201: CoverRequestSerializer},
                         description="Request cover for a buyer: new, increase, reduction, cancellation or "
                                     "prolongation (EDIFACT 4505). A discretionary cover within the policy's "
                                     "discretionary limit is in force at once. One open request per buyer and "
                                     "policy (409 otherwise)."),
)
class CoverRequestViewSet(InsuranceViewSet):
    serializer_class = CoverRequestSerializer
    filterset_class = CoverRequestFilter

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return CoverRequest.objects.filter(organization=organization).select_related("customer")

    def create(self, request):
        fields = _validated(CoverRequestWriteSerializer, self, request.data)
        submit = fields.pop("submit", False)
        with transaction.atomic():
            cover = services.cover_request_create(organization=self.organization, actor=self.actor,
                                                  amount=fields.pop("amount", 0), **fields)
            if submit and cover.status == RequestStatus.PENDING:
                services.cover_request_submit(organization=self.organization, actor=self.actor, request=cover,
                                              callback_url=request.build_absolute_uri(callback_path(cover.policy_id)))
        return self.created(self.get_queryset().get(pk=cover.pk))

    @extend_schema(request=CoverDecisionSerializer, responses=CoverRequestSerializer,
                   description="Record the insurer's decision: approved (the amount requested), partial (a lower "
                               "amount) or refused (reason code / text), with valid_until. A request is decided "
                               "once: a second decision is a 409.")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        cover = self.get_object()
        fields = _validated(CoverDecisionSerializer, self, request.data)
        services.cover_request_decide(organization=self.organization, actor=self.actor, request=cover, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=cover.pk))


class DeadlineQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text=_("Default: today in the organization's time zone."))
    customer = serializers.IntegerField(required=False)
    state = serializers.ChoiceField(choices=[(s, s) for s in selectors.DeadlineState.ALL], required=False)


class DeadlineApi(OrganizationScopedView, GenericAPIView):
    pagination_class = None
    filter_backends = []
    serializer_class = DeadlineRowSerializer

    @extend_schema(parameters=[DeadlineQuerySerializer], responses=DeadlineRowSerializer(many=True),
                   description="Every insured invoice open on as_of: covered amount (the buyer's cover spread over "
                               "its invoices oldest due first, disputed amounts excluded), notify_by, extend_until, "
                               "claim_by and state (ok, due_soon, missed, notified, claimed).")
    def get(self, request):
        query = _validated(DeadlineQuerySerializer, self, request.query_params)
        as_of = query.get("as_of") or local_today(self.organization.timezone)
        rows = selectors.insured_deadlines(self.organization, as_of=as_of, customer_id=query.get("customer"))
        if "state" in query:
            rows = [row for row in rows if row.state == query["state"]]
        return Response(DeadlineRowSerializer(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(description="Declarations sent to the insurer (overdue, extension, rescheduling), with the "
                                   "content sent and its sha256."),
    create=extend_schema(request=DeclarationWriteSerializer, responses={201: DeclarationSerializer},
                         description="Declare invoices: overdue (OVD), due-date extension (EXP, new_due_date within "
                                     "the policy's maximum extension) or rescheduling (RES). Pre-filled from the "
                                     "ledger and the dunning timeline; refused once a deadline was missed."),
)
class DeclarationViewSet(InsuranceViewSet):
    serializer_class = DeclarationSerializer
    filterset_class = DeclarationFilter

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        lines = DeclarationInvoice.objects.filter(organization=organization).select_related("invoice")
        return Declaration.objects.filter(organization=organization).prefetch_related(Prefetch("lines", queryset=lines))

    def create(self, request):
        fields = _validated(DeclarationWriteSerializer, self, request.data)
        declaration = services.declaration_create(organization=self.organization, actor=self.actor, **fields)
        return self.created(self.get_queryset().get(pk=declaration.pk))


@extend_schema_view(
    list=extend_schema(description="Claims with their invoices, expected indemnity and each step of it."),
    create=extend_schema(request=ClaimWriteSerializer, responses={201: ClaimSerializer},
                         description="Claim a buyer's notified, covered unpaid invoices. The answer carries "
                                     "expected_indemnity: insured % x (covered loss - recoveries), nothing under "
                                     "the claim threshold, less the deductible, to the cent. With filed_on the "
                                     "claim is filed at once."),
)
class ClaimViewSet(InsuranceViewSet):
    serializer_class = ClaimSerializer
    filterset_class = ClaimFilter

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        lines = ClaimInvoice.objects.filter(organization=organization).select_related("invoice")
        return (Claim.objects.filter(organization=organization)
                .prefetch_related(Prefetch("lines", queryset=lines), "recovery_rows"))

    def create(self, request):
        fields = _validated(ClaimWriteSerializer, self, request.data)
        filed_on = fields.pop("filed_on", None)
        with transaction.atomic():
            claim = services.claim_create(organization=self.organization, actor=self.actor,
                                          as_of=filed_on, **fields)
            if filed_on is not None:
                services.claim_file(organization=self.organization, actor=self.actor, claim=claim, filed_on=filed_on)
        return self.created(self.get_queryset().get(pk=claim.pk))

    @extend_schema(request=ClaimFileSerializer, responses=ClaimSerializer,
                   description="File a draft claim (refused after a claim-filing deadline).")
    @action(detail=True, methods=["post"], url_path="file")
    def file(self, request, pk=None):
        claim = self.get_object()
        fields = _validated(ClaimFileSerializer, self, request.data)
        services.claim_file(organization=self.organization, actor=self.actor, claim=claim, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=claim.pk))

    @extend_schema(request=ClaimDecideSerializer, responses=ClaimSerializer,
                   description="The insurer accepted (with the indemnity) or rejected (with its reason) the claim.")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        claim = self.get_object()
        fields = _validated(ClaimDecideSerializer, self, request.data)
        services.claim_decide(organization=self.organization, actor=self.actor, claim=claim, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=claim.pk))

    @extend_schema(request=ClaimPaySerializer, responses=ClaimSerializer,
                   description="The indemnity received: recorded as a payment settling the claim's invoices oldest "
                               "due first; write_off_rest writes off what stays open (the uninsured part).")
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        claim = self.get_object()
        fields = _validated(ClaimPaySerializer, self, request.data)
        services.claim_pay(organization=self.organization, actor=self.actor, claim=claim, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=claim.pk))

    @extend_schema(request=ClaimRecoveryWriteSerializer, responses=ClaimSerializer,
                   description="Money recovered after the indemnity, shared with the insurer per the insured %.")
    @action(detail=True, methods=["post"])
    def recoveries(self, request, pk=None):
        claim = self.get_object()
        fields = _validated(ClaimRecoveryWriteSerializer, self, request.data)
        services.claim_recovery_record(organization=self.organization, actor=self.actor, claim=claim, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=claim.pk))

    @extend_schema(responses={(200, "application/zip"): bytes},
                   parameters=[OpenApiParameter("language", str, description="en or zh-hans (default: both)")],
                   description="The claim file: a ZIP with an index (English and Chinese), the invoices, the "
                               "statement of account, the dunning timeline with every reminder's content and hash, "
                               "disputes, promises and credit decisions.")
    @action(detail=True, methods=["get"], url_path="claim-file")
    def claim_file(self, request, pk=None):
        claim = get_object_or_404(self.get_queryset(), pk=pk)
        data = claim_file_zip(self.organization, claim)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="claim-{claim.pk}.zip"'
        return response
