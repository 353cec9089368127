"""Pages of issue 14 item 4: a one-off reminder to one customer, and the organization's own
wording of each step's message (admins), with its variables and a live preview."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Language, Role
from tenancy.money import ZERO
from tenancy.views import organization_required, role_at_least

from . import rendering, selectors, services, wording
from .models import DunningStep, MessageTemplate, StepTemplate


class ReminderForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 18, "class": "mail-edit"}))
    step = forms.IntegerField(widget=forms.HiddenInput)
    language = forms.ChoiceField(choices=Language.choices, widget=forms.HiddenInput)
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)


class WordingForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    body = forms.CharField(label=gettext_lazy("Message"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 18, "class": "mail-edit"}))


def _form_error(form: forms.Form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


# --- one-off reminder ---------------------------------------------------------------------

def _step_of(request: HttpRequest, value) -> DunningStep | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return DunningStep.objects.filter(organization=request.organization, pk=pk).first()


@organization_required
def reminder_send(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Preview the step's wording for this customer, edit it, send it (collectors and above)."""
    organization = request.organization
    customer = get_object_or_404(Customer, organization=organization, pk=customer_pk)
    source = request.POST if request.method == "POST" else request.GET
    step = _step_of(request, source.get("step"))
    language = source.get("language") if source.get("language") in Language.values else None
    try:
        draft = services.reminder_draft(organization, customer, step=step, language=language)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("dunning:timeline", customer_pk=customer.pk)
    can_send = role_at_least(request, Role.COLLECTOR)
    initial = {"subject": draft.subject, "body": draft.text, "step": draft.step.pk, "language": draft.language,
               "key": uuid.uuid4().hex}
    form = ReminderForm(request.POST if request.method == "POST" else None, initial=initial)
    preview = None
    status = 200
    if request.method == "POST":
        if not can_send:
            raise PermissionDenied(_("This needs the %(role)s role in %(org)s.")
                                   % {"role": Role.COLLECTOR.label, "org": organization.name})
        if form.is_valid():
            data = form.cleaned_data
            if request.POST.get("action") == "send":
                try:
                    message = services.send_one_off(
                        organization=organization, customer=customer, user=request.user, step=draft.step,
                        subject=data["subject"], body=data["body"], language=draft.language, key=data["key"])
                    messages.success(request, _("Reminder to %(customer)s recorded; it is on its way to %(to)s.")
                                     % {"customer": customer.name, "to": ", ".join(message.to)})
                    return redirect("dunning:timeline", customer_pk=customer.pk)
                except DomainError as error:
                    _form_error(form, error)
            else:
                preview = {"subject": " ".join(data["subject"].split()), "text": data["body"]}
        status = 400 if form.errors else 200
    return render(request, "dunning/reminder_send.html", {
        "customer": customer, "draft": draft, "form": form, "preview": preview, "can_send": can_send,
        "recipients": [e for e in (customer.contact_emails or []) if e],
        "languages": Language.choices, "has_own": MessageTemplate.objects.filter(
            organization=organization, template=draft.step.template, language=draft.language).exists(),
    }, status=status)


# --- the organization's own wording (admins) ---------------------------------------------

def _check_pair(template: str, language: str) -> None:
    if template not in StepTemplate.values or language not in Language.values:
        raise Http404


def _admin_require(request: HttpRequest) -> None:
    if not role_at_least(request, Role.ADMIN):
        raise PermissionDenied(_("This needs the %(role)s role in %(org)s.")
                               % {"role": Role.ADMIN.label, "org": request.organization.name})


@organization_required
def message_template_list(request: HttpRequest) -> HttpResponse:
    """Every step template in every language: the organization's own wording or the built-in one."""
    own = {(r.template, r.language): r for r in MessageTemplate.objects.filter(organization=request.organization)}
    rows = [{"template": value, "label": label,
             "languages": [{"code": code, "label": name, "own": own.get((value, code))}
                           for code, name in Language.choices]}
            for value, label in StepTemplate.choices]
    return render(request, "dunning/message_template_list.html", {"rows": rows})


def _sample_values(request: HttpRequest, template: str, language: str) -> dict[str, str]:
    """Variables filled with a made-up customer and two invoices, for the preview."""
    organization = request.organization
    today = local_today(organization.timezone)
    step = DunningStep(days_from_due=10, template=template)
    currency = organization.base_currency
    candidates = [
        selectors.Candidate(invoice_id=0, number="INV-1001", customer_id=0, issue_date=today - dt.timedelta(days=75),
                            due_date=today - dt.timedelta(days=45), currency=currency, balance=Decimal("12800.00"),
                            disputed=ZERO, step=step, days_overdue=45),
        selectors.Candidate(invoice_id=-1, number="INV-1017", customer_id=0, issue_date=today - dt.timedelta(days=42),
                            due_date=today - dt.timedelta(days=12), currency=currency, balance=Decimal("3450.50"),
                            disputed=ZERO, step=step, days_overdue=12),
    ]
    items = rendering.items_for(candidates, {c.invoice_id: selectors.NO_CHARGES for c in candidates})
    overdue = sum((c.balance for c in candidates), ZERO)
    context = {"organization": organization, "customer": Customer(name=_("Sample Customer Ltd")), "items": items,
               "today": today, "pay_to": [], "portal_url": rendering.site_url() + "/portal/…/",
               "totals": rendering._totals(items, {currency: (overdue, overdue)}, {})}
    return wording.values_for(context, language)


def _preview(request: HttpRequest, template: str, language: str, subject: str, body: str) -> dict:
    unknown = wording.unknown_variables(subject + "\n" + body)
    filled = wording.fill(wording.Wording(subject, body), _sample_values(request, template, language))
    return {"subject": filled.subject, "text": filled.body,
            "error": (_("Unknown variable: %(names)s. Use only the variables listed.")
                      % {"names": ", ".join(unknown)}) if unknown else ""}


@organization_required
def message_template_edit(request: HttpRequest, template: str, language: str) -> HttpResponse:
    """Edit a step's wording in one language: variables listed, preview, save or go back to the built-in text."""
    _check_pair(template, language)
    _admin_require(request)
    organization = request.organization
    row = MessageTemplate.objects.filter(organization=organization, template=template, language=language).first()
    default = wording.default_wording(template, language)
    current = wording.Wording(row.subject, row.body) if row is not None else default
    form = WordingForm(request.POST or None, initial={"subject": current.subject, "body": current.body})
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "reset":
        services.message_template_reset(organization=organization, actor=request.user, template=template,
                                        language=language)
        messages.success(request, _("Back to the built-in wording."))
        return redirect("dunning:message_template_edit", template=template, language=language)
    if action == "save" and form.is_valid():
        try:
            services.message_template_set(organization=organization, actor=request.user, template=template,
                                          language=language, **form.cleaned_data)
            messages.success(request, _("Wording saved; the next messages of this step use it."))
            return redirect("dunning:message_template_list")
        except DomainError as error:
            _form_error(form, error)
    shown = form.cleaned_data if form.is_bound and form.is_valid() else {"subject": current.subject,
                                                                          "body": current.body}
    return render(request, "dunning/message_template_edit.html", {
        "form": form, "row": row, "template": template, "language": language,
        "template_label": StepTemplate(template).label, "language_label": Language(language).label,
        "variables": [{"name": name, "help": help} for name, help in wording.VARIABLES.items()],
        "preview": _preview(request, template, language, shown["subject"], shown["body"]),
    }, status=400 if form.errors else 200)


@organization_required
@require_POST
def message_template_preview(request: HttpRequest, template: str, language: str) -> JsonResponse:
    """The live preview: the posted wording filled with the sample customer, as JSON."""
    _check_pair(template, language)
    _admin_require(request)
    subject, body = request.POST.get("subject", "")[:300], request.POST.get("body", "")[:20000]
    return JsonResponse(_preview(request, template, language, subject, body))
