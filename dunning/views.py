"""Browser pages of dunning: thin views over the services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from receivables.models import Customer, Invoice
from receivables.selectors import open_invoices
from receivables.views.lists import list_download
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.money import money_format, quantize
from tenancy.views import organization_required

from . import evidence, selectors, services
from .exports import dispute_columns, plan_columns, promise_columns
from .forms import (
    CallLogForm,
    CustomerDisputeForm,
    CustomerDunningForm,
    CustomerPromiseForm,
    DisputeOpenForm,
    DisputeResolveForm,
    InstallmentFormSet,
    PlanForm,
    PolicyForm,
    PromiseForm,
    StepFormSet,
    TaskLogForm,
    formset_rows,
)
from .models import CollectionTask, CustomerDunning, Dispute, DunningPolicy, DunningRun, Outcome, TaskStatus
from .services.disputes import disputes_open
from .services.worklist import collection_call_log, collection_tasks_refresh

WORKLIST_PAGE_SIZE = 50


def _today(request):
    return local_today(request.organization.timezone)


@organization_required
def preview(request):
    organization = request.organization
    customer = None
    if request.GET.get("customer"):
        try:
            customer_pk = int(request.GET["customer"])
        except ValueError:
            raise Http404 from None  # ?customer=abc names no customer, like an unknown id
        customer = get_object_or_404(Customer, organization=organization, pk=customer_pk)
    preview = services.dunning_preview_page(organization, customer=customer)
    return render(request, "dunning/preview.html", {"rows": preview.rows, "preview": preview, "today": preview.today,
                                                    "customer": customer})


@organization_required
@require_POST
def run_now(request):
    try:
        run = services.dunning_run(organization=request.organization, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("dunning:preview")
    messages.success(request, _("Dunning ran: %(messages)s messages, %(notices)s notices, %(tasks)s call tasks.")
                     % {"messages": run.messages_count, "notices": run.notices_count, "tasks": run.tasks_count})
    return redirect("dunning:run_detail", pk=run.pk)


@organization_required
def run_list(request):
    return render(request, "dunning/run_list.html", {"runs": selectors.run_list(request.organization)[:100]})


@organization_required
def run_detail(request, pk: int):
    run = get_object_or_404(DunningRun, organization=request.organization, pk=pk)
    return render(request, "dunning/run_detail.html", {"run": run, "messages_sent": run.messages.select_related(
        "customer").order_by("customer__name")})


@organization_required
def policy_list(request):
    services.dunning_policy_default(organization=request.organization)
    return render(request, "dunning/policy_list.html", {"policies": selectors.policy_list(request.organization)})


def _next_url(request, default: str) -> str:
    """Back where the action started (a page of this site), else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@organization_required
def worklist(request):
    today = _today(request)
    # Every customer with overdue items gets a task, not only those a daily run reached (an import).
    collection_tasks_refresh(organization=request.organization, today=today)
    mine = request.GET.get("mine") == "1"
    rows = selectors.worklist(request.organization, today, assigned_to=request.user if mine else None)
    page = Paginator(rows, WORKLIST_PAGE_SIZE).get_page(request.GET.get("page"))
    contacts = selectors.contacts_of(request.organization, [row.task.customer for row in page.object_list])
    for row in page.object_list:
        row.contacts = contacts.get(row.task.customer_id, [])
    return render(request, "dunning/worklist.html", {
        "rows": page.object_list, "page": page, "mine": mine, "today": today,
        "base_currency": request.organization.base_currency, "form": TaskLogForm(auto_id=False)})


def _call_log(request, customer, form, task=None, invoices=None):
    """Log the call of a valid form; the error, on the form, when a rule refuses it."""
    data = form.cleaned_data
    try:
        logged = collection_call_log(
            organization=request.organization, actor=request.user, customer=customer, task=task,
            outcome=data["outcome"], notes=data["notes"], follow_up_on=data["follow_up_on"],
            promised_date=data["promised_date"], promised_amount=data["promised_amount"], invoices=invoices)
    except DomainError as error:
        _form_error(form, error)
        return None
    if logged.promise is not None:
        messages.success(request, _("Call logged. Promise to pay %(amount)s by %(date)s recorded; dunning pauses "
                                    "on its invoices until then.")
                         % {"amount": money_format(logged.promise.amount, logged.promise.currency),
                            "date": logged.promise.promised_date.isoformat()})
    elif logged.task.status == TaskStatus.OPEN:
        messages.success(request, _("Call logged; the task stays open until %(date)s.")
                         % {"date": logged.task.due_on.isoformat()})
    else:
        messages.success(request, _("Call logged."))
    return logged


@organization_required
@require_POST
def task_log(request, pk: int):
    task = get_object_or_404(CollectionTask.objects.select_related("customer"), organization=request.organization,
                             pk=pk)
    form = TaskLogForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["keep_open"] and not form.cleaned_data["follow_up_on"] \
                and form.cleaned_data["outcome"] != "promised":
            try:
                services.collection_task_log(organization=request.organization, actor=request.user, task=task,
                                             outcome=form.cleaned_data["outcome"], notes=form.cleaned_data["notes"],
                                             close=False)
                messages.success(request, _("Outcome logged."))
            except DomainError as error:
                messages.error(request, error.message)
            return redirect(_next_url(request, reverse("dunning:worklist")))
        if _call_log(request, task.customer, form, task=task) is not None:
            back = _next_url(request, reverse("dunning:worklist"))
            if form.cleaned_data["outcome"] == Outcome.DISPUTED:  # the dispute itself is one form away
                return redirect(f'{reverse("dunning:customer_dispute", kwargs={"customer_pk": task.customer_id})}'
                                f"?{urlencode({'next': back})}")
            return redirect(back)
    for field_name, errors in form.errors.items():
        label = form.fields[field_name].label if field_name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)
    return redirect(_next_url(request, reverse("dunning:worklist")))


@organization_required
def customer_call(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    form = CallLogForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _call_log(request, customer, form) is not None:
        back = _next_url(request, reverse("dunning:timeline", kwargs={"customer_pk": customer.pk}))
        if form.cleaned_data["outcome"] == Outcome.DISPUTED:
            return redirect(f'{reverse("dunning:customer_dispute", kwargs={"customer_pk": customer.pk})}'
                            f"?{urlencode({'next': back})}")
        return redirect(back)
    return render(request, "dunning/action_form.html", {
        "form": form, "customer": customer, "title": _("Log a call with %(customer)s") % {"customer": customer.name},
        "contacts": selectors.contacts_of(request.organization, [customer]).get(customer.pk, []),
        "intro": _("\"Promised to pay\" records a promise to pay, which pauses dunning on the invoices it covers "
                   "(the oldest overdue first)."),
        "next": _next_url(request, "")}, status=400 if form.errors else 200)


def _customer_invoices(request, customer):
    return open_invoices(request.organization).filter(customer=customer).order_by("due_date", "pk")


def _preselected(request, invoices) -> list[int]:
    """?invoice=<id> (repeatable) ticks those invoices; by default the overdue ones that no open
    promise or active plan covers yet."""
    wanted = [int(v) for v in request.GET.getlist("invoice") if v.isdigit()]
    if wanted:
        return list(invoices.filter(pk__in=wanted).values_list("pk", flat=True))
    covered = selectors.invoices_promised_or_planned(request.organization)
    return list(invoices.filter(due_date__lt=_today(request)).exclude(pk__in=covered[0]).exclude(pk__in=covered[1])
                .values_list("pk", flat=True))


@organization_required
def customer_promise(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    invoices = _customer_invoices(request, customer)
    form = CustomerPromiseForm(request.POST or None, invoices=invoices,
                               initial={"invoices": _preselected(request, invoices)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = list(data["invoices"])
        amount = data["amount"] if data["amount"] is not None else sum(i.balance for i in chosen)
        try:
            promise = services.promise_create(organization=request.organization, actor=request.user,
                                              customer=customer, invoices=chosen, amount=amount,
                                              promised_date=data["promised_date"], grace_days=data["grace_days"],
                                              notes=data["notes"])
            messages.success(request, _("Promise recorded; dunning pauses on its invoices until %(date)s.")
                             % {"date": promise.pause_until.isoformat()})
            return redirect(_next_url(request, reverse("dunning:timeline", kwargs={"customer_pk": customer.pk})))
        except DomainError as error:
            _form_error(form, error)
    return render(request, "dunning/action_form.html", {
        "form": form, "customer": customer, "next": _next_url(request, ""),
        "title": _("Promise to pay: %(customer)s") % {"customer": customer.name},
        "intro": _("Dunning pauses on the chosen invoices until the promised date plus the grace days; a promise "
                   "not kept resumes it.")}, status=400 if form.errors else 200)


@organization_required
def customer_dispute(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    invoices = _customer_invoices(request, customer)
    wanted = [int(v) for v in request.GET.getlist("invoice") if v.isdigit()]
    form = CustomerDisputeForm(request.POST or None, invoices=invoices,
                               initial={"invoices": list(invoices.filter(pk__in=wanted).values_list("pk", flat=True))})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            disputes = disputes_open(organization=request.organization, actor=request.user, customer=customer,
                                     invoices=list(data["invoices"]), reason=data["reason"], amount=data["amount"],
                                     description=data["description"], due_on=data["due_on"], owner=request.user)
            messages.success(request, _("%(count)s dispute(s) opened; dunning pauses on the disputed amounts.")
                             % {"count": len(disputes)})
            return redirect(_next_url(request, reverse("dunning:timeline", kwargs={"customer_pk": customer.pk})))
        except DomainError as error:
            _form_error(form, error)
    return render(request, "dunning/action_form.html", {
        "form": form, "customer": customer, "next": _next_url(request, ""),
        "title": _("Dispute: %(customer)s") % {"customer": customer.name},
        "intro": _("An amount is spread over the chosen invoices, oldest due date first; empty disputes each in "
                   "full.")}, status=400 if form.errors else 200)


@organization_required
@require_POST
def task_take(request, pk: int):
    task = get_object_or_404(CollectionTask, organization=request.organization, pk=pk)
    try:
        services.collection_task_assign(organization=request.organization, actor=request.user, task=task,
                                        user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("dunning:worklist")


@organization_required
def dispute_list(request):
    status = request.GET.get("status") or None
    rows = selectors.dispute_list(request.organization, _today(request), status=status)
    if download := list_download(request, rows, stem="disputes", title=_("Disputes"), columns=dispute_columns()):
        return download
    return render(request, "dunning/dispute_list.html", {
        "rows": rows, "status": status, "resolve_form": DisputeResolveForm()})


@organization_required
def dispute_open(request, invoice_pk: int):
    invoice = get_object_or_404(Invoice, organization=request.organization, pk=invoice_pk)
    form = DisputeOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dispute_open(organization=request.organization, actor=request.user, invoice=invoice,
                                  reason=form.cleaned_data["reason"], amount=form.cleaned_data["amount"],
                                  description=form.cleaned_data["description"], due_on=form.cleaned_data["due_on"],
                                  owner=request.user)
            messages.success(request, _("Dispute opened; dunning pauses on the disputed amount."))
            return redirect(_next_url(request, reverse("dunning:dispute_list")))
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    return render(request, "dunning/action_form.html", {
        "form": form, "customer": invoice.customer, "invoice": invoice, "next": _next_url(request, ""),
        "title": _("Dispute invoice %(number)s") % {"number": invoice.number}}, status=400 if form.errors else 200)


@organization_required
@require_POST
def dispute_resolve(request, pk: int):
    dispute = get_object_or_404(Dispute, organization=request.organization, pk=pk)
    form = DisputeResolveForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_resolve(organization=request.organization, actor=request.user, dispute=dispute,
                                     **form.cleaned_data)
            messages.success(request, _("Dispute resolved."))
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Choose a resolution."))
    return redirect("dunning:dispute_list")


@organization_required
def promise_list(request):
    promises = selectors.promise_list(request.organization)
    if download := list_download(request, promises, stem="promises", title=_("Promises to pay"),
                                 columns=promise_columns()):
        return download
    return render(request, "dunning/promise_list.html", {"promises": promises})


@organization_required
def promise_create(request, invoice_pk: int):
    invoice = get_object_or_404(Invoice, organization=request.organization, pk=invoice_pk)
    form = PromiseForm(request.POST or None, initial={"amount": quantize(invoice.balance, invoice.currency)})
    if request.method == "POST" and form.is_valid():
        try:
            services.promise_create(organization=request.organization, actor=request.user, customer=invoice.customer,
                                    invoices=[invoice], **form.cleaned_data)
            messages.success(request, _("Promise recorded; dunning pauses until its date."))
            return redirect(_next_url(request, reverse("dunning:promise_list")))
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    return render(request, "dunning/action_form.html", {
        "form": form, "customer": invoice.customer, "invoice": invoice, "next": _next_url(request, ""),
        "title": _("Promise to pay %(number)s") % {"number": invoice.number}}, status=400 if form.errors else 200)


@organization_required
def plan_list(request):
    plans = selectors.plan_list(request.organization)
    if download := list_download(request, plans, stem="payment-plans", title=_("Payment plans"), columns=plan_columns()):
        return download
    return render(request, "dunning/plan_list.html", {"plans": plans})


@organization_required
def customer_timeline(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    return render(request, "dunning/timeline.html", {
        "customer": customer, "events": selectors.customer_timeline(request.organization, customer)[:500]})


@organization_required
def customer_evidence(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    data = evidence.evidence_bundle(request.organization, customer)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="evidence-customer-{customer.pk}.zip"'
    return response


# --- policies (admins), per-customer settings, payment plans ----------------------------------

def _form_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _policy_page(request, form, steps, policy=None, status=200):
    title = _("Edit policy %(name)s") % {"name": policy.name} if policy else _("New dunning policy")
    return render(request, "dunning/policy_form.html", {"form": form, "steps": steps, "policy": policy,
                                                        "title": title}, status=status)


def _steps_initial(policy) -> list[dict]:
    return [{"days_from_due": s.days_from_due, "channel": s.channel, "template": s.template,
             "fee_amount": s.fee_amount, "fee_currency": s.fee_currency, "call_task": s.call_task}
            for s in policy.steps.all()]


@organization_required
def policy_create(request):
    form = PolicyForm(request.POST or None)
    # Initial rows only on GET: a posted row equal to its initial would count as "unchanged" and drop out.
    steps = StepFormSet(request.POST, prefix="steps") if request.method == "POST" else StepFormSet(
        prefix="steps", initial=services.DEFAULT_STEPS)
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        fields = dict(form.cleaned_data)
        try:
            services.dunning_policy_create(organization=request.organization, actor=request.user,
                                           name=fields.pop("name"), steps=formset_rows(steps), **fields)
            messages.success(request, _("Policy created."))
            return redirect("dunning:policy_list")
        except DomainError as error:
            _form_error(form, error)
    return _policy_page(request, form, steps, status=400 if request.method == "POST" else 200)


@organization_required
def policy_edit(request, pk: int):
    policy = get_object_or_404(DunningPolicy, organization=request.organization, pk=pk)
    form = PolicyForm(request.POST or None, instance=policy)
    steps = StepFormSet(request.POST, prefix="steps") if request.method == "POST" else StepFormSet(
        prefix="steps", initial=_steps_initial(policy))
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            with transaction.atomic():
                # Re-read: the form changed the instance in memory.
                policy = DunningPolicy.objects.get(organization=request.organization, pk=pk)
                services.dunning_policy_update(organization=request.organization, actor=request.user,
                                               policy=policy, **changes)
                services.dunning_policy_steps_set(organization=request.organization, actor=request.user,
                                                  policy=policy, steps=formset_rows(steps))
            messages.success(request, _("Policy saved."))
            return redirect("dunning:policy_list")
        except DomainError as error:
            _form_error(form, error)
    return _policy_page(request, form, steps, policy, status=400 if request.method == "POST" else 200)


@organization_required
def customer_settings(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    setting = CustomerDunning.objects.filter(organization=request.organization, customer=customer).first()
    initial = {"policy": setting.policy_id, "excluded": setting.excluded,
               "collector": setting.collector_id} if setting else {}
    form = CustomerDunningForm(request.POST or None, organization=request.organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_dunning_set(organization=request.organization, actor=request.user, customer=customer,
                                          **form.cleaned_data)
            messages.success(request, _("Dunning settings of %(customer)s saved.") % {"customer": customer.name})
            return redirect("dunning:timeline", customer_pk=customer.pk)
        except DomainError as error:
            _form_error(form, error)
    return render(request, "dunning/form.html", {
        "form": form, "title": _("Dunning settings: %(customer)s") % {"customer": customer.name},
        "intro": _("Policy now: %(policy)s") % {"policy": services.policy_for_customer(request.organization,
                                                                                       customer).name},
    }, status=400 if form.errors else 200)


@organization_required
def plan_create(request, customer_pk: int):
    customer = get_object_or_404(Customer, organization=request.organization, pk=customer_pk)
    invoices = open_invoices(request.organization).filter(customer=customer).order_by("due_date", "pk")
    form = PlanForm(request.POST or None, invoices=invoices, prefix="plan",
                    initial={"invoices": _preselected(request, invoices)})
    installments = InstallmentFormSet(request.POST or None, prefix="installments")
    if request.method == "POST" and form.is_valid() and installments.is_valid():
        rows = [(row["due_date"], row["amount"]) for row in formset_rows(installments)]
        try:
            services.payment_plan_create(organization=request.organization, actor=request.user, customer=customer,
                                         invoices=list(form.cleaned_data["invoices"]), installments=rows,
                                         interest_rate=form.cleaned_data["interest_rate"],
                                         grace_days=form.cleaned_data["grace_days"], notes=form.cleaned_data["notes"])
            messages.success(request, _("Payment plan agreed; dunning pauses on its invoices."))
            return redirect("dunning:plan_list")
        except DomainError as error:
            _form_error(form, error)
    return render(request, "dunning/plan_form.html", {"form": form, "installments": installments,
                                                      "customer": customer},
                  status=400 if request.method == "POST" else 200)
