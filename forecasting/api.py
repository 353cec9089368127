"""The forecasting REST API: /api/v1/forecast/cash/ (+ a week's invoices), /api/v1/forecast/accuracy/,
/api/v1/provisions/ (JSON, CSV, XLSX) and its movement, /api/v1/forecast/invoices/<id>/.

Thin by rule: validate the query, call the same selector as the pages, return. Answers come from
stored predictions; the model itself only runs in the Celery worker."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from receivables.api import FORMAT_PARAM, FileExportMixin, file_or_json, file_responses
from receivables.exports import CsvRenderer, XlsxRenderer
from receivables.models import Invoice
from tenancy.api.views import OrganizationScopedView
from tenancy.dates import local_today

from .cashflow import cash_forecast, forecast_accuracy, forecast_week_lines
from .models import ForecastSnapshot, InvoicePrediction
from .provisions import Provision, provision_matrix, provision_movement
from .reasons import reasons_text
from .selectors import payment_model_current
from .serializers import (
    AccuracySerializer,
    CashForecastSerializer,
    ForecastQuerySerializer,
    ForecastWeekDetailSerializer,
    MovementQuerySerializer,
    MovementSerializer,
    PredictionSerializer,
    ProvisionQuerySerializer,
    ProvisionSerializer,
)


def _validated(serializer_class, view, data) -> dict:
    serializer = serializer_class(data=data, context=view.get_serializer_context())
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ForecastApi(FileExportMixin, OrganizationScopedView, GenericAPIView):
    pagination_class = None
    filter_backends = []

    def today(self):
        return local_today(self.organization.timezone)


def model_info(organization) -> dict | None:
    stored = payment_model_current(organization)
    if stored is None:
        return None
    return {"version": stored.version, "method": stored.method, "trained_at": stored.trained_at,
            "metrics": stored.metrics, "note": stored.note}


class CashForecastApi(ForecastApi):
    @extend_schema(parameters=[ForecastQuerySerializer], responses=CashForecastSerializer,
                   description="Cash expected per week (P10/P50/P90) from the open invoices' stored predictions, "
                               "promises, payment plans, factoring and insurance flows, in base currency.")
    def get(self, request):
        query = _validated(ForecastQuerySerializer, self, request.query_params)
        forecast = cash_forecast(self.organization, as_of=query.get("as_of") or self.today(), weeks=query["weeks"],
                                 new_sales=query.get("new_sales"))
        data = dataclasses.asdict(forecast)
        data["model"] = model_info(self.organization)
        return Response(CashForecastSerializer(data).data)


class ForecastWeekApi(ForecastApi):
    @extend_schema(parameters=[OpenApiParameter("as_of", str, required=False)], responses=ForecastWeekDetailSerializer,
                   description="The invoices behind one week's figure, with the cash each is expected to bring "
                               "that week, largest first.")
    def get(self, request, week_start):
        try:
            week_start = dt.date.fromisoformat(week_start)
        except ValueError:
            raise NotFound(_("Give the week as YYYY-MM-DD.")) from None
        query = _validated(ForecastQuerySerializer, self, request.query_params)
        lines = forecast_week_lines(self.organization, as_of=query.get("as_of") or self.today(), week_start=week_start)
        return Response(ForecastWeekDetailSerializer({
            "week_start": week_start, "currency": self.organization.base_currency,
            "invoices": [dataclasses.asdict(line) for line in lines]}).data)


class ForecastAccuracyApi(ForecastApi):
    @extend_schema(parameters=[OpenApiParameter("as_of", str, required=False)], responses=AccuracySerializer,
                   description="How far the stored weekly snapshots were off, per horizon (1..13 weeks ahead): "
                               "WAPE and bias of the forecast collections and of the baseline's.")
    def get(self, request):
        query = _validated(ForecastQuerySerializer, self, request.query_params)
        as_of = query.get("as_of") or self.today()
        rows = forecast_accuracy(self.organization, as_of=as_of)
        return Response(AccuracySerializer({
            "as_of": as_of, "currency": self.organization.base_currency,
            "snapshots": ForecastSnapshot.objects.filter(organization=self.organization).count(),
            "horizons": [dataclasses.asdict(row) for row in rows]}).data)


def provision_data(provision: Provision) -> dict:
    return {
        "as_of": provision.as_of, "currency": provision.currency, "method": "cohort",
        "history_from": provision.history_from, "history_to": provision.history_to,
        "calibrated_on": provision.calibrated_on, "segment": provision.segment,
        "buckets": [{**dataclasses.asdict(b), "loss_rate": b.loss_rate} for b in provision.buckets],
        "individual": [dataclasses.asdict(line) for line in provision.individual],
        "total_balance": provision.total_balance, "ecl_gross": provision.ecl_gross, "ecl_net": provision.ecl_net,
        "coverage": provision.coverage,
    }


def provision_table(provision: Provision) -> tuple[list[str], list[list]]:
    header = ["bucket", "balance", "loss_rate", "overlay", "ecl", "balance_net", "ecl_net", "reason"]
    rows = [[b.label, b.balance, b.loss_rate, b.multiplier, b.ecl, b.balance_net, b.ecl_net, b.overlay_reason]
            for b in provision.buckets]
    rows += [[line.customer_name, line.balance, line.loss_rate, "", line.ecl, line.balance_net, line.ecl_net,
              line.reason] for line in provision.individual]
    rows.append(["TOTAL", provision.total_balance, provision.coverage, "", provision.ecl_gross, "",
                 provision.ecl_net, ""])
    return header, rows


class ProvisionApi(ForecastApi):
    renderer_classes = [JSONRenderer, CsvRenderer, XlsxRenderer]

    @extend_schema(parameters=[ProvisionQuerySerializer, FORMAT_PARAM], responses=file_responses(ProvisionSerializer),
                   description="Expected credit loss on as_of (IFRS 9 simplified approach, cohort loss rates from "
                               "the invoices issued in the history window; default: the twelve months matured by "
                               "as_of), by aging bucket, gross and net of insurance cover; JSON, CSV or XLSX.")
    def get(self, request):
        query = _validated(ProvisionQuerySerializer, self, request.query_params)
        as_of = query.get("as_of") or self.today()
        provision = provision_matrix(self.organization, as_of=as_of, history_from=query.get("history_from"),
                                     history_to=query.get("history_to"), segment=query.get("segment"))
        return file_or_json(request, ProvisionSerializer(provision_data(provision)).data, provision_table(provision),
                            f"provision-{as_of.isoformat()}")


class ProvisionMovementApi(ForecastApi):
    @extend_schema(parameters=[MovementQuerySerializer], responses=MovementSerializer,
                   description="Opening provision, charge, amounts used by write-offs and closing provision "
                               "between two dates (opening + charge - used = closing).")
    def get(self, request):
        query = _validated(MovementQuerySerializer, self, request.query_params)
        movement = provision_movement(self.organization, date_from=query["date_from"], date_to=query["date_to"])
        return Response(MovementSerializer(dataclasses.asdict(movement)).data)


class InvoicePredictionApi(ForecastApi):
    @extend_schema(responses=PredictionSerializer, parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
                   description="An open invoice's predicted payment date (P10/P50/P90), probability of paying "
                               "late and top reasons; 404 when it has none (settled, or not predicted yet).")
    def get(self, request, pk):
        if not (pk.isascii() and pk.isdigit()):
            raise NotFound
        invoice = get_object_or_404(Invoice.objects.filter(organization=self.organization), pk=pk)
        prediction = get_object_or_404(InvoicePrediction.objects.filter(organization=self.organization)
                                       .select_related("payment_model"), invoice=invoice)
        return Response(PredictionSerializer(prediction_data(prediction)).data)


def prediction_data(prediction: InvoicePrediction) -> dict:
    return {"invoice_id": prediction.invoice_id, "method": prediction.method, "p10_date": prediction.p10_date,
            "expected_date": prediction.expected_date, "p90_date": prediction.p90_date,
            "baseline_date": prediction.baseline_date, "probability_late": prediction.probability_late,
            "reasons": reasons_text(prediction.reasons),
            "model_version": prediction.payment_model.version if prediction.payment_model else None}
