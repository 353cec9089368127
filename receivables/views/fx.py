"""FX rates: the list and the form to add one (fx_rate_set); the realized FX gain/loss by month."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.models import Role
from tenancy.views import organization_required, paginate, role_at_least

from .. import selectors, services
from ..exports import Column
from ..filters import FxRateFilter
from ..forms import FxRateForm
from ..models import FxRate
from .common import as_of_from
from .lists import export_or_none, ui_fields


@organization_required
def fx_rate_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    # ?currency=USD&rate_date=2026-04-30: the link of a report's missing-rate warning fills the form in.
    initial = {"rate_date": request.GET.get("rate_date") or local_today(organization.timezone)}
    if request.GET.get("currency"):
        initial["currency"] = request.GET["currency"].strip().upper()[:3]
    form = FxRateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            fx = services.fx_rate_set(organization=organization, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            messages.success(request, _("Rate for %(currency)s from %(date)s saved.") % {
                "currency": fx.currency, "date": fx.rate_date.isoformat()})
            return redirect("fx_rate_list")
    # The list's filters come from GET (?currency= also fills in the form above; a POST is the form).
    filterset = FxRateFilter(request.GET or None, queryset=FxRate.objects.filter(organization=organization),
                             request=request)
    rates = filterset.qs.order_by("currency", "-rate_date", "pk")
    download = export_or_none(request, filterset, rates, stem="fx-rates", title=_("FX rates"), columns=[
        Column(_("Currency"), lambda fx: fx.currency),
        Column(_("From date"), lambda fx: fx.rate_date),
        Column(_("%(base)s per unit") % {"base": organization.base_currency}, lambda fx: fx.rate.normalize()),
        Column(_("Base currency"), lambda fx: organization.base_currency),
    ])
    if download is not None:
        return download
    return render(request, "receivables/fx_rate_list.html", {
        "form": form, "page": paginate(request, rates, per_page=50), "filter_fields": ui_fields(filterset, "filter_%s"),
        "can_edit": role_at_least(request, Role.CREDIT_MANAGER),
    })


@organization_required
def fx_realized(request: HttpRequest) -> HttpResponse:
    """Realized exchange gain/loss by month up to the as-of date, in base currency."""
    as_of, as_of_form = as_of_from(request)
    report = selectors.realized_fx_report(request.organization, as_of, months=12)
    return render(request, "receivables/fx_realized.html", {"as_of": as_of, "as_of_form": as_of_form, "report": report})
