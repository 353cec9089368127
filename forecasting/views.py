"""Forecasting pages: the 13-week cash forecast (band chart + table, drill-down, accuracy, model),
the provision (ECL) with overlays and individual assessments, an invoice's prediction."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.models import Role
from tenancy.views import organization_required, role_at_least

from . import services
from .cashflow import cash_forecast, forecast_accuracy, forecast_week_lines
from .charts import accuracy_chart_data, band_chart_data
from .forms import AssessmentForm, OverlayForm, ProvisionForm
from .models import IndividualAssessment, InvoicePrediction, ProvisionOverlay
from .provisions import provision_matrix, provision_movement
from .reasons import reasons_text
from .selectors import payment_model_current, payment_model_list


@organization_required
def forecast(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    today = local_today(organization.timezone)
    result = cash_forecast(organization, as_of=today)
    accuracy = [row for row in forecast_accuracy(organization, as_of=today) if row.weeks]
    return render(request, "forecasting/forecast.html", {
        "forecast": result, "chart_data": band_chart_data(result.weeks, result.currency),
        "model": payment_model_current(organization), "models": payment_model_list(organization)[:5],
        "accuracy": accuracy, "accuracy_chart": accuracy_chart_data(accuracy),
    })


@organization_required
def forecast_week(request: HttpRequest, week_start: str) -> HttpResponse:
    try:
        week = dt.date.fromisoformat(week_start)
    except ValueError:
        raise Http404 from None
    organization = request.organization
    lines = forecast_week_lines(organization, as_of=local_today(organization.timezone), week_start=week)
    return render(request, "forecasting/week.html", {"week_start": week, "lines": lines,
                                                     "currency": organization.base_currency})


@organization_required
def invoice_prediction(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), organization=organization, pk=pk)
    prediction = (InvoicePrediction.objects.filter(organization=organization, invoice=invoice)
                  .select_related("payment_model").first())
    return render(request, "forecasting/invoice.html", {
        "invoice": invoice, "prediction": prediction,
        "reasons": reasons_text(prediction.reasons) if prediction else []})


def _provision_context(request: HttpRequest, form: ProvisionForm, **extra) -> dict:
    organization = request.organization
    today = local_today(organization.timezone)
    data = form.cleaned_data if form.is_valid() else {}
    as_of = data.get("as_of") or today
    provision = provision_matrix(organization, as_of=as_of, history_from=data.get("history_from"),
                                 history_to=data.get("history_to"))
    date_from = data.get("date_from") or (as_of.replace(day=1) - dt.timedelta(days=1))
    movement = provision_movement(organization, date_from=date_from, date_to=as_of, closing=provision)
    buckets = [(b.key, b.label) for b in provision.buckets]
    customers = Customer.objects.filter(organization=organization).values_list("pk", "name")
    query = request.GET.urlencode()
    return {
        "form": form, "provision": provision, "movement": movement, "query": query,
        "can_edit": role_at_least(request, Role.CREDIT_MANAGER),
        "overlay_form": extra.get("overlay_form") or OverlayForm(buckets=buckets, initial={"effective_from": today}),
        "assessment_form": extra.get("assessment_form") or AssessmentForm(customers=customers,
                                                                          initial={"assessed_on": today}),
        "overlays": ProvisionOverlay.objects.filter(organization=organization).select_related("created_by")[:20],
        "assessments": IndividualAssessment.objects.filter(organization=organization).select_related("customer")[:20],
    }


@organization_required
def provisions(request: HttpRequest) -> HttpResponse:
    form = ProvisionForm(request.GET or None)
    return render(request, "forecasting/provisions.html", _provision_context(request, form))


@organization_required
def provisions_pdf(request: HttpRequest) -> HttpResponse:
    """The provision matrix as a PDF, in the reader's language (same query as the page)."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    context = _provision_context(request, ProvisionForm(request.GET or None))
    html = render_to_string("forecasting/provision_pdf.html", {**context, "organization": request.organization})
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="provision-{context["provision"].as_of.isoformat()}.pdf"'
    return response


@organization_required
@require_POST
def overlay_create(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    buckets = [(b.key, b.label) for b in provision_matrix(organization, as_of=local_today(organization.timezone)).buckets]
    form = OverlayForm(request.POST, buckets=buckets)
    if form.is_valid():
        try:
            services.provision_overlay_set(organization=organization, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("The overlay is recorded."))
            return redirect("forecasting:provisions")
    return render(request, "forecasting/provisions.html", _provision_context(request, ProvisionForm(), overlay_form=form))


@organization_required
@require_POST
def assessment_create(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    customers = Customer.objects.filter(organization=organization).values_list("pk", "name")
    form = AssessmentForm(request.POST, customers=customers)
    if form.is_valid():
        data = dict(form.cleaned_data)
        customer = get_object_or_404(Customer, organization=organization, pk=data.pop("customer"))
        try:
            services.individual_assessment_set(organization=organization, actor=request.user, customer=customer, **data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("The assessment is recorded."))
            return redirect("forecasting:provisions")
    return render(request, "forecasting/provisions.html",
                  _provision_context(request, ProvisionForm(), assessment_form=form))
