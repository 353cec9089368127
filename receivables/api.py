"""The receivables REST API (/api/v1/): customers, invoices, payments, credit notes,
write-offs, events, and the aging / DSO / statement read models.

Thin by rule: validate with a serializer, call the same service or selector as the UI, return.
Every view subclasses tenancy.api.views.OrganizationViewSet (or OrganizationScopedView), which
scopes every query to the request's organization and fails closed."""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tenancy.api.representation import ValuesListModelMixin
from tenancy.api.views import OrganizationScopedView, OrganizationViewSet
from tenancy.dates import local_today
from tenancy.models import Organization, WebhookEvent, validate_aging_buckets
from tenancy.money import CURRENCY_CHOICES

from . import bulk, services
from .exports import (
    XLSX_MEDIA_TYPE,
    CsvRenderer,
    FileRenderer,
    XlsxRenderer,
    aging_data,
    aging_table,
    csv_bytes,
    statement_data,
    statement_table,
    xlsx_bytes,
)
from .filters import CreditNoteFilter, CustomerFilter, EventFilter, InvoiceFilter, PaymentFilter, WriteOffFilter
from .models import Allocation, CreditNote, Customer, Invoice, Payment, WriteOff
from .selectors import aging_report, customer_statement, dso_report, invoice_ledger, realized_fx_report
from .serializers import (
    AgingReportSerializer,
    AllocateSerializer,
    AllocationSerializer,
    BulkResultSerializer,
    CreditNoteCreateSerializer,
    CreditNoteReverseSerializer,
    CreditNoteSerializer,
    CreditNoteUpdateSerializer,
    CustomerBulkRowSerializer,
    CustomerSerializer,
    CustomerUpdateSerializer,
    CustomerWriteSerializer,
    DsoReportSerializer,
    EventSerializer,
    InvoiceBulkRowSerializer,
    InvoiceCreatedSerializer,
    InvoiceCreateSerializer,
    InvoiceSerializer,
    InvoiceUpdateSerializer,
    InvoiceVoidSerializer,
    InvoiceWriteOffSerializer,
    PaymentBulkRowSerializer,
    PaymentCreateSerializer,
    PaymentReassignSerializer,
    PaymentRefundSerializer,
    PaymentReverseSerializer,
    PaymentSerializer,
    PaymentUnapplySerializer,
    PaymentUpdateSerializer,
    RealizedFxReportSerializer,
    ScopedPrimaryKeyRelatedField,
    StatementSerializer,
    WriteOffCreateSerializer,
    WriteOffReverseSerializer,
    WriteOffSerializer,
    WriteOffUpdateSerializer,
    bulk_request_serializer,
    currency_field,
)

EXTERNAL_ID_PARAM = OpenApiParameter("external_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     description="Your system's id for the record.")
ETAG_NOTE = "The response carries an ETag; send it back in If-Match on PATCH."


def _validated(serializer_class, view, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, context=view.get_serializer_context(), partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _allocation_pairs(validated: list[dict] | None) -> list[tuple] | None:
    """(invoice, amount), or (invoice, amount, Conversion) for a line that says how it converts."""
    if validated is None:
        return None
    return [(row["invoice"], row["amount"]) if "payment_amount" not in row and "rate" not in row
            else (row["invoice"], row["amount"],
                  services.Conversion(payment_amount=row.get("payment_amount"), rate=row.get("rate")))
            for row in validated]


class LedgerViewSet(OrganizationViewSet):
    """Lists, retrieve and by-external-id for one ledger model, with ETags on single rows."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    # Route any id to the view, so a malformed one is the API's JSON 404, not the site's HTML page.
    lookup_value_regex = r"[^/]+"

    def retrieve(self, request, pk=None):
        return self.respond_with_etag(self.get_object())

    def by_external_id(self, request, external_id=None):
        return self.respond_with_etag(get_object_or_404(self.get_queryset(), external_id=external_id))

    def locked_object(self):
        """The row of this request under a row lock (for If-Match and the write after it)."""
        queryset = self.get_queryset().select_for_update(of=("self",), no_key=True)
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def created(self, instance) -> Response:
        location = reverse(f"api:{self.basename}-detail", kwargs={"pk": instance.pk})
        return self.respond_with_etag(instance, status=201, Location=location)

    def bulk_response(self, kind: str):
        result = bulk.bulk_upsert(organization=self.organization, actor=self.actor, kind=kind,
                                  rows=self.request.data.get("rows") if isinstance(self.request.data, dict) else None)
        # Already in BulkResultSerializer's shape (what the schema names); passing 10,000 rows through it costs ~4 µs each.
        return Response(result)


def _by_external_id_schema(serializer):
    return extend_schema(parameters=[EXTERNAL_ID_PARAM], responses=serializer,
                         description="Look a record up by the external_id your system gave it. " + ETAG_NOTE)


def _bulk_result_example(*rows: tuple[str, int, str]) -> OpenApiExample:
    """The response to the request example: each row's outcome (view examples replace the serializer's)."""
    outcomes = [outcome for _external_id, _id, outcome in rows]
    return OpenApiExample("Outcome per row", response_only=True, value={
        **{outcome: outcomes.count(outcome) for outcome in ("created", "updated", "unchanged")},
        "rows": [{"index": index, "external_id": external_id, "id": pk, "outcome": outcome}
                 for index, (external_id, pk, outcome) in enumerate(rows)]})


def _bulk_schema(row_serializer, name: str, what: str, example: OpenApiExample, result: OpenApiExample):
    return extend_schema(
        request=bulk_request_serializer(row_serializer, name), responses=BulkResultSerializer,
        examples=[example, result],
        description=f"Upsert up to 10,000 {what} keyed on external_id. The request is validated as a whole: "
                    "either every row is written, or none and the 400 lists every row's problems "
                    "(error.rows). The response gives each row's outcome: created, updated or unchanged.")


# --- files and query parameters of the read models ------------------------------------------

FORMAT_PARAM = OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"],
                                description="json (default), csv or xlsx.")


def file_responses(json_serializer) -> dict:
    return {(200, "application/json"): json_serializer, (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY}


def file_or_json(request, data, table, name: str) -> Response:
    """The JSON body, or the same figures as a CSV / XLSX attachment (per the negotiated renderer)."""
    file_format = getattr(request.accepted_renderer, "format", "json")
    if file_format == "csv":
        content = csv_bytes(*table)
    elif file_format == "xlsx":
        content = xlsx_bytes(name, *table)
    else:
        return Response(data)
    return Response(content, headers={"Content-Disposition": f'attachment; filename="{name}.{file_format}"'})


class FileExportMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        # An error is JSON even when a file was asked for.
        if isinstance(getattr(request, "accepted_renderer", None), FileRenderer) and not isinstance(
                response.data, bytes):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class AsOfQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Default: today in the organization's time zone.")


class StatementQuerySerializer(AsOfQuerySerializer):
    pass


AGING_CURRENCY_HELP = ("Only invoices in this ISO 4217 currency, with amounts in it and no FX conversion (the "
                       "report's currency is then this code). Default: every invoice, converted to the base "
                       "currency.")
AGING_CURRENCY_PARAM = OpenApiParameter(
    "currency", OpenApiTypes.STR, enum=[code for code, _label in CURRENCY_CHOICES], description=AGING_CURRENCY_HELP,
    examples=[OpenApiExample("US dollars only", value="USD")])


class AgingQuerySerializer(AsOfQuerySerializer):
    buckets = serializers.RegexField(r"^\d{1,5}(,\d{1,5}){0,7}$", required=False,
                                     help_text="Bucket boundaries in days, e.g. 30,60,90 (default: the "
                                               "organization's setting).")
    customer = ScopedPrimaryKeyRelatedField(Customer, required=False, help_text="One customer only.")
    currency = currency_field(required=False, help_text=AGING_CURRENCY_HELP)

    def validate_buckets(self, value: str) -> list[int]:
        bounds = [int(part) for part in value.split(",")]
        try:
            validate_aging_buckets(bounds)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return bounds


class RealizedFxQuerySerializer(AsOfQuerySerializer):
    months = serializers.IntegerField(min_value=1, max_value=36, required=False, default=12,
                                      help_text="Calendar months up to as_of (the last one ends on it).")


class DsoQuerySerializer(AsOfQuerySerializer):
    period_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, default=90,
                                           help_text="Trailing period of the standard DSO.")
    months = serializers.IntegerField(min_value=1, max_value=36, required=False, default=12,
                                      help_text="Months of trend.")


# --- customers -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Customers in a stable order; `updated_since` + cursor for incremental sync."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=CustomerWriteSerializer, responses={201: CustomerSerializer}),
    partial_update=extend_schema(request=CustomerUpdateSerializer(partial=True), responses=CustomerSerializer),
)
class CustomerViewSet(FileExportMixin, ValuesListModelMixin, LedgerViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ("updated_at", "id", "name", "created_at")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return Customer.objects.filter(organization=organization)

    def create(self, request):
        fields = _validated(CustomerWriteSerializer, self, request.data)
        return self.created(services.customer_create(organization=self.organization, actor=self.actor, **fields))

    @transaction.atomic
    def partial_update(self, request, pk=None):
        customer = self.locked_object()  # first: another organization's row is a 404 whatever the body
        changes = _validated(CustomerUpdateSerializer, self, request.data, partial=True)
        self.if_match_locked(customer)
        customer = services.customer_update(organization=self.organization, customer=customer, actor=self.actor,
                                            **changes)
        return self.respond_with_etag(customer)

    @_by_external_id_schema(CustomerSerializer)
    @action(detail=False, methods=["get"], url_path=r"by-external-id/(?P<external_id>[^/]+)")
    def by_external_id(self, request, external_id=None):
        return super().by_external_id(request, external_id)

    @extend_schema(parameters=[StatementQuerySerializer, FORMAT_PARAM],
                   responses=file_responses(StatementSerializer),
                   description="The customer's open items on as_of, oldest due first, with a running balance per "
                               "currency and unapplied cash; as JSON, CSV or XLSX (`format`).")
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None,
            renderer_classes=[JSONRenderer, CsvRenderer, XlsxRenderer])
    def statement(self, request, pk=None):
        query = _validated(StatementQuerySerializer, self, request.query_params)
        customer = self.get_object()
        as_of = query.get("as_of") or local_today(self.organization.timezone)
        statement = customer_statement(self.organization, customer, as_of)
        name = f"statement-{customer.pk}-{as_of.isoformat()}"
        return file_or_json(request, StatementSerializer(statement_data(statement)).data,
                            statement_table(statement), name)

    @_bulk_schema(CustomerBulkRowSerializer, "CustomerBulkRequest", "customers", OpenApiExample(
        "A Chinese and a foreign customer", request_only=True, value={"rows": [
            {"external_id": "C-1001", "name": "上海华东贸易有限公司", "country": "CN", "currency": "CNY",
             "payment_terms_days": 30, "language": "zh-hans", "contact_emails": ["ap@huadong-trading.cn"]},
            {"external_id": "C-2001", "name": "Northwind Traders", "legal_name": "Northwind Traders Ltd.",
             "country": "US", "currency": "USD", "payment_terms_days": 45, "language": "en",
             "contact_emails": ["ap@northwind.example"], "segment": "strategic"}]}),
        _bulk_result_example(("C-1001", 7, "unchanged"), ("C-2001", 8, "updated")))
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        return self.bulk_response("customers")


# --- invoices --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Invoices in a stable order; filter, then page with the cursor."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceCreatedSerializer},
                         description="Create an invoice. A customer on credit hold is refused (409 credit_hold) or, "
                                     "when the organization warns instead, the invoice is created and `warnings` "
                                     "says why."),
    partial_update=extend_schema(request=InvoiceUpdateSerializer, responses=InvoiceSerializer,
                                 description="Correct dates, amounts or references. Send If-Match."),
)
class InvoiceViewSet(ValuesListModelMixin, LedgerViewSet):
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    ordering_fields = ("updated_at", "id", "issue_date", "due_date", "total_amount", "number", "created_at")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return Invoice.objects.filter(organization=organization).select_related("customer")

    def create(self, request):
        fields = _validated(InvoiceCreateSerializer, self, request.data)
        invoice = services.invoice_create(organization=self.organization, actor=self.actor, **fields)
        response = self.created(invoice)
        # Only the create response carries warnings; the ETag stays that of the plain representation.
        warning = getattr(invoice, "credit_warning", None)
        response.data = {**response.data, "warnings": [warning] if warning else []}
        return response

    @transaction.atomic
    def partial_update(self, request, pk=None):
        invoice = self.get_object()  # first: a bad id or another organization's row is a 404 whatever the body
        changes = _validated(InvoiceUpdateSerializer, self, request.data)
        # The ETag is compared under the service's locks (payments before the invoice, as everywhere).
        invoice = services.invoice_update(organization=self.organization, invoice=invoice, actor=self.actor,
                                          precondition=self.if_match_locked, **changes)
        return self.respond_with_etag(invoice)

    @_by_external_id_schema(InvoiceSerializer)
    @action(detail=False, methods=["get"], url_path=r"by-external-id/(?P<external_id>[^/]+)")
    def by_external_id(self, request, external_id=None):
        return super().by_external_id(request, external_id)

    @extend_schema(request=InvoiceVoidSerializer, responses=InvoiceSerializer,
                   description="Void an invoice that has nothing applied to it.")
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        fields = _validated(InvoiceVoidSerializer, self, request.data)
        invoice = services.invoice_void(organization=self.organization, invoice=self.get_object(), actor=self.actor,
                                        voided_on=fields.get("voided_on"), reason=fields.get("reason", ""))
        return self.respond_with_etag(invoice)

    @extend_schema(request=InvoiceWriteOffSerializer, responses={201: WriteOffSerializer},
                   description="Write off part or all of the balance (needs the credit manager role by session).")
    @action(detail=True, methods=["post"], url_path="write-off")
    def write_off(self, request, pk=None):
        fields = _validated(InvoiceWriteOffSerializer, self, request.data)
        write_off = services.invoice_write_off(organization=self.organization, invoice=self.get_object(),
                                               actor=self.actor, **fields)
        return Response(WriteOffSerializer(write_off).data, status=201)

    @extend_schema(responses=AllocationSerializer(many=True),
                   description="What settled the invoice (payments, credit notes, write-offs), in date order.")
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def allocations(self, request, pk=None):
        rows = invoice_ledger(self.organization, self.get_object()).select_related("invoice")
        return Response(AllocationSerializer(rows, many=True).data)

    @_bulk_schema(InvoiceBulkRowSerializer, "InvoiceBulkRequest", "invoices", OpenApiExample(
        "Invoices in CNY and USD", request_only=True, value={"rows": [
            {"external_id": "SAP-90000042", "number": "INV-2026-0042", "customer_external_id": "C-1001",
             "issue_date": "2026-03-01", "due_date": "2026-03-31", "currency": "CNY", "net_amount": "1000.00",
             "tax_amount": "130.00", "po_reference": "PO-7781"},
            {"external_id": "SAP-90000044", "number": "INV-2026-0044", "customer_external_id": "C-2001",
             "customer_name": "Northwind Traders", "issue_date": "2026-03-02", "due_date": "2026-04-16",
             "currency": "USD", "total_amount": "2500.00", "description": "Sample batch, 500 units"}]}),
        _bulk_result_example(("SAP-90000042", 42, "created"), ("SAP-90000044", 44, "created")))
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        return self.bulk_response("invoices")


# --- payments --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Payments with their allocations, in a stable order."),
    retrieve=extend_schema(description=ETAG_NOTE),
    create=extend_schema(request=PaymentCreateSerializer, responses={201: PaymentSerializer},
                         description="Record a payment; it is applied to `allocations`, or oldest due first "
                                     "unless auto_allocate is false."),
    partial_update=extend_schema(request=PaymentUpdateSerializer, responses=PaymentSerializer,
                                 description="Correct the date, amount, method or references. The amount cannot go "
                                             "below what is allocated (409 over_application); a new date re-dates "
                                             "the allocations. Customer and currency cannot change (400). "
                                             "Send If-Match."),
)
class PaymentViewSet(ValuesListModelMixin, LedgerViewSet):
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = ("updated_at", "id", "received_on", "amount", "created_at")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        allocations = Allocation.objects.filter(organization=organization).select_related("invoice")
        return (Payment.objects.filter(organization=organization).select_related("customer")
                .prefetch_related(Prefetch("allocations", queryset=allocations)))

    @transaction.atomic
    def create(self, request):
        fields = _validated(PaymentCreateSerializer, self, request.data)
        allocations = _allocation_pairs(fields.pop("allocations", None))
        auto = fields.pop("auto_allocate") and allocations is None
        payment = services.payment_record(organization=self.organization, actor=self.actor, auto_allocate=auto,
                                          **fields)
        if allocations:
            services.payment_allocate(organization=self.organization, actor=self.actor, payment=payment,
                                      allocations=allocations)
        return self.created(self.get_queryset().get(pk=payment.pk))

    @transaction.atomic
    def partial_update(self, request, pk=None):
        payment = self.locked_object()  # first: another organization's row is a 404 whatever the body
        changes = _validated(PaymentUpdateSerializer, self, request.data)
        self.if_match_locked(payment)
        services.payment_update(organization=self.organization, payment=payment, actor=self.actor, **changes)
        return self.respond_with_etag(self.get_queryset().get(pk=payment.pk))

    @_by_external_id_schema(PaymentSerializer)
    @action(detail=False, methods=["get"], url_path=r"by-external-id/(?P<external_id>[^/]+)")
    def by_external_id(self, request, external_id=None):
        return super().by_external_id(request, external_id)

    @extend_schema(request=AllocateSerializer, responses=PaymentSerializer,
                   description="Apply the unapplied amount to the given invoices, or oldest due first.")
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        fields = _validated(AllocateSerializer, self, request.data)
        services.payment_allocate(organization=self.organization, actor=self.actor, payment=self.get_object(),
                                  allocations=_allocation_pairs(fields.get("allocations")))
        return self.respond_with_etag(self.get_object())

    @_bulk_schema(PaymentBulkRowSerializer, "PaymentBulkRequest", "payments", OpenApiExample(
        "A bank statement's receipts", request_only=True, value={"rows": [
            {"external_id": "BANK-2026-03-15-001", "customer_external_id": "C-1001", "received_on": "2026-03-15",
             "amount": "1130.00", "currency": "CNY", "method": "bank_transfer", "reference": "ICBC 0031",
             "invoice_number": "INV-2026-0031"},
            {"external_id": "BANK-2026-03-16-002", "customer_external_id": "C-2001", "received_on": "2026-03-16",
             "amount": "2500.00", "currency": "USD", "method": "bank_transfer", "reference": "HSBC 7781"}]}),
        _bulk_result_example(("BANK-2026-03-15-001", 57, "created"), ("BANK-2026-03-16-002", 58, "created")))
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        return self.bulk_response("payments")

    @extend_schema(request=PaymentReverseSerializer, responses=PaymentSerializer,
                   description="Reverse a returned or bounced payment as of reversed_on: every allocation is undone "
                               "that day (its invoices reopen), the payment's status becomes \"reversed\" and it "
                               "cannot be allocated again; an optional fee is billed as a charges invoice. Reports as "
                               "of an earlier date are unchanged. Reversing twice, a date before the payment or after "
                               "today: 400. Another reversal of it in progress: 409 concurrent_change. Needs the "
                               "credit manager role when signed in.")
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        payment = self.get_object()
        fields = _validated(PaymentReverseSerializer, self, request.data)
        services.payment_reverse(organization=self.organization, actor=self.actor, payment=payment, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=payment.pk))

    @extend_schema(request=PaymentUnapplySerializer, responses=PaymentSerializer,
                   description="Move cash applied to an invoice back to unapplied, dated `on`; then allocate it "
                               "elsewhere.")
    @action(detail=True, methods=["post"])
    def unapply(self, request, pk=None):
        payment = self.get_object()
        fields = _validated(PaymentUnapplySerializer, self, request.data)
        services.payment_unapply(organization=self.organization, actor=self.actor, payment=payment, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=payment.pk))

    @extend_schema(request=PaymentRefundSerializer, responses=PaymentSerializer,
                   description="Pay unapplied cash back to the customer (never more than unapplied: 400).")
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        payment = self.get_object()
        fields = _validated(PaymentRefundSerializer, self, request.data)
        services.payment_refund(organization=self.organization, actor=self.actor, payment=payment, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=payment.pk))

    @extend_schema(request=PaymentReassignSerializer, responses=PaymentSerializer,
                   description="Move a payment recorded against the wrong customer; only while nothing of it is "
                               "applied (409 otherwise).")
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        payment = self.get_object()
        fields = _validated(PaymentReassignSerializer, self, request.data)
        services.payment_reassign(organization=self.organization, actor=self.actor, payment=payment, **fields)
        return self.respond_with_etag(self.get_queryset().get(pk=payment.pk))


# --- credit notes, write-offs, events --------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Credit notes in a stable order; `updated_since` + cursor for incremental sync "
                                   "(new notes, corrections and applications)."),
    create=extend_schema(request=CreditNoteCreateSerializer, responses={201: CreditNoteSerializer}),
    partial_update=extend_schema(request=CreditNoteUpdateSerializer, responses=CreditNoteSerializer,
                                 description="Correct the number, date, amount, reason or external id. The amount "
                                             "cannot go below what is applied (409 over_application); a new date "
                                             "re-dates the allocations. Send If-Match."),
)
class CreditNoteViewSet(ValuesListModelMixin, LedgerViewSet):
    serializer_class = CreditNoteSerializer
    filterset_class = CreditNoteFilter
    ordering_fields = ("updated_at", "id", "issued_on", "amount", "created_at")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return CreditNote.objects.filter(organization=organization)

    def create(self, request):
        fields = _validated(CreditNoteCreateSerializer, self, request.data)
        return self.created(services.credit_note_create(organization=self.organization, actor=self.actor, **fields))

    @transaction.atomic
    def partial_update(self, request, pk=None):
        credit_note = self.locked_object()  # first: another organization's row is a 404 whatever the body
        changes = _validated(CreditNoteUpdateSerializer, self, request.data)
        self.if_match_locked(credit_note)
        credit_note = services.credit_note_update(organization=self.organization, credit_note=credit_note,
                                                  actor=self.actor, **changes)
        return self.respond_with_etag(credit_note)

    @_by_external_id_schema(CreditNoteSerializer)
    @action(detail=False, methods=["get"], url_path=r"by-external-id/(?P<external_id>[^/]+)")
    def by_external_id(self, request, external_id=None):
        return super().by_external_id(request, external_id)

    @extend_schema(request=AllocateSerializer, responses=CreditNoteSerializer,
                   description="Apply the credit's unapplied amount to the given invoices, or oldest due first.")
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        fields = _validated(AllocateSerializer, self, request.data)
        services.credit_note_apply(organization=self.organization, actor=self.actor, credit_note=self.get_object(),
                                   allocations=_allocation_pairs(fields.get("allocations")))
        return self.respond_with_etag(self.get_object())

    @extend_schema(request=CreditNoteReverseSerializer, responses=CreditNoteSerializer,
                   description="Reverse a credit note as of reversed_on: its applications are undone that day (the "
                               "invoices reopen) and it cannot be applied again.")
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        note = self.get_object()
        fields = _validated(CreditNoteReverseSerializer, self, request.data)
        services.credit_note_reverse(organization=self.organization, actor=self.actor, credit_note=note, **fields)
        return self.respond_with_etag(self.get_object())


@extend_schema_view(
    list=extend_schema(description="Write-offs in a stable order; `updated_since` + cursor for incremental sync "
                                   "(new write-offs and corrections)."),
    create=extend_schema(request=WriteOffCreateSerializer, responses={201: WriteOffSerializer},
                         description="Write off part or all of an invoice's balance."),
    partial_update=extend_schema(request=WriteOffUpdateSerializer, responses=WriteOffSerializer,
                                 description="Correct the reason (needs the credit manager role by session). The "
                                             "amount and date are ledger facts and cannot change (400). Send "
                                             "If-Match."),
)
class WriteOffViewSet(ValuesListModelMixin, LedgerViewSet):
    serializer_class = WriteOffSerializer
    filterset_class = WriteOffFilter
    ordering_fields = ("updated_at", "id", "written_off_on", "amount", "created_at")

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return WriteOff.objects.filter(organization=organization).select_related("invoice")

    def create(self, request):
        fields = _validated(WriteOffCreateSerializer, self, request.data)
        invoice = fields.pop("invoice")
        write_off = services.invoice_write_off(organization=self.organization, actor=self.actor, invoice=invoice,
                                               **fields)
        return self.created(write_off)

    @transaction.atomic
    def partial_update(self, request, pk=None):
        write_off = self.locked_object()  # first: another organization's row is a 404 whatever the body
        changes = _validated(WriteOffUpdateSerializer, self, request.data)
        self.if_match_locked(write_off)
        write_off = services.write_off_update(organization=self.organization, write_off=write_off, actor=self.actor,
                                              **changes)
        return self.respond_with_etag(write_off)

    @extend_schema(request=WriteOffReverseSerializer, responses=WriteOffSerializer,
                   description="Reverse all or part of a write-off as of reversed_on (a bad debt recovered): the "
                               "invoice reopens by that amount; the debtor's payment is then an ordinary payment.")
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        write_off = self.get_object()
        fields = _validated(WriteOffReverseSerializer, self, request.data)
        services.write_off_reverse(organization=self.organization, actor=self.actor, write_off=write_off, **fields)
        return self.respond_with_etag(self.get_object())


@extend_schema_view(list=extend_schema(
    description="Every event recorded for your organization (the same ones sent to webhooks), oldest first."))
class EventViewSet(mixins.ListModelMixin, OrganizationViewSet):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    default_ordering = "id"
    ordering_fields = ("id",)

    def scoped_queryset(self, organization: Organization) -> QuerySet:
        return WebhookEvent.objects.filter(organization=organization)



# --- read models -----------------------------------------------------------------------------


class ReportApi(FileExportMixin, OrganizationScopedView, GenericAPIView):
    pagination_class = None
    filter_backends = []


class AgingReportApi(ReportApi):
    renderer_classes = [JSONRenderer, CsvRenderer, XlsxRenderer]

    @extend_schema(parameters=[AgingQuerySerializer, AGING_CURRENCY_PARAM, FORMAT_PARAM],
                   responses=file_responses(AgingReportSerializer),
                   description="Receivables outstanding on as_of, by customer and aging bucket, in base currency "
                               "(or, with `currency`, in that currency's invoices only, unconverted); as JSON, CSV "
                               "or XLSX (a `currency` export is named aging-<as_of>-<currency> and has a currency "
                               "column).")
    def get(self, request):
        query = _validated(AgingQuerySerializer, self, request.query_params)
        organization = copy.copy(self.organization)
        if "buckets" in query:
            organization.aging_buckets = query["buckets"]  # this report only; never saved
        as_of = query.get("as_of") or local_today(organization.timezone)
        customer = query.get("customer")
        currency = query.get("currency")
        report = aging_report(organization, as_of, customer_id=customer.pk if customer else None, currency=currency,
                              unrealized=True)
        name = f"aging-{as_of.isoformat()}" + (f"-{currency}" if currency else "")
        return file_or_json(request, AgingReportSerializer(aging_data(report)).data,
                            aging_table(report, currency_column=currency is not None), name)


class DsoReportApi(ReportApi):
    @extend_schema(parameters=[DsoQuerySerializer], responses=DsoReportSerializer,
                   description="Days sales outstanding on as_of: standard (AR / sales of the trailing period x "
                               "days) and countback, with a monthly trend.")
    def get(self, request):
        query = _validated(DsoQuerySerializer, self, request.query_params)
        as_of = query.get("as_of") or local_today(self.organization.timezone)
        report = dso_report(self.organization, as_of, period_days=query["period_days"], months=query["months"])
        return Response(DsoReportSerializer(report).data)


class RealizedFxReportApi(ReportApi):
    @extend_schema(parameters=[RealizedFxQuerySerializer], responses=RealizedFxReportSerializer,
                   description="Realized exchange gain (+) or loss (-) per calendar month up to as_of, in base "
                               "currency: what each payment allocation brought in at its receipt date's rate minus "
                               "the part of the invoice's value at issue it settled (a reversal counts, negated, on "
                               "its date). docs/ledger.md has the worked example.")
    def get(self, request):
        query = _validated(RealizedFxQuerySerializer, self, request.query_params)
        as_of = query.get("as_of") or local_today(self.organization.timezone)
        report = realized_fx_report(self.organization, as_of, months=query["months"])
        return Response(RealizedFxReportSerializer({
            "as_of": report.as_of, "currency": report.currency, "periods": report.periods, "total": report.total,
            "unknown": report.unknown}).data)
