"""Import pages: upload -> reading (progress) -> column mapping -> preview -> confirm -> progress and results.

Thin: every write goes through receivables.importing.services; every job is looked up within
request.organization, so another organization's job is a 404."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from receivables.models import ImportJob, ImportMapping, ImportStatus
from tenancy.errors import DomainError, PermissionDenied
from tenancy.models import Role
from tenancy.services import role_require

from . import selectors, services
from .errors import ImportInvalidError
from .forms import MappingFileForm, MappingForm, UploadForm
from .mapping import Mapping, mapping_check, mapping_from_dict
from .matching import Match, mapping_suggest

TEMPLATES = "receivables/importing/"


def collector_required(view):
    """Signed in, a member of the current organization (else 404), collector or above (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.organization is None:
            raise Http404
        try:
            role_require(organization=request.organization, actor=request.user, role=Role.COLLECTOR)
        except PermissionDenied as exc:
            return render(request, TEMPLATES + "denied.html", {"message": exc.message}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _job(request, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob, organization=request.organization, pk=pk)


@collector_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(organization=request.organization, actor=request.user,
                                             kind=form.cleaned_data["kind"], file=upload, file_name=upload.name)
        except ImportInvalidError as exc:
            form.add_error("file", " ".join(error.message for error in exc.errors))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("importing:job", pk=job.pk)  # the file is read in the background; its bar shows how far
    jobs = selectors.import_job_list(request.organization)[:20]
    return render(request, TEMPLATES + "start.html", {"form": form, "jobs": jobs})


def _kept_table(request, job: ImportJob):
    """The rows the background read kept, or a redirect to the job page while they are read again."""
    table = services.import_job_table_kept(job, head=True)
    if table is None:
        services.import_job_reread(organization=request.organization, job=job)
        return None
    return table


def _initial_mapping(request, job: ImportJob, table) -> tuple[Mapping, ImportMapping | None, dict[str, Match]]:
    """The mapping to prefill: a saved one the user picked, else what the job already has, else
    the columns matched by name and synonym (with how sure each match is)."""
    saved_id = request.GET.get("saved")
    if saved_id and saved_id.isdigit():
        saved = get_object_or_404(ImportMapping, organization=request.organization, kind=job.kind, pk=saved_id)
        return services.import_mapping_load(saved), saved, {}
    if job.mapping:
        return mapping_from_dict(job.mapping, kind=job.kind), None, {}
    suggestion = mapping_suggest(job.kind, table, default_currency=request.organization.base_currency)
    return suggestion.mapping, None, suggestion.matches


def _mapping_page(request, job, table, form, *, file_form=None, saved=None, matches=None, loaded=None, problems=(),
                  status=200):
    rows = [{"field": field, "name": name, "match": (matches or {}).get(name)}
            for name, field in zip([n[4:] for n in form.field_names], form.column_fields(), strict=True)]
    return render(request, TEMPLATES + "mapping.html", {
        "job": job, "form": form, "rows": rows, "header": table.header, "saved": saved, "loaded": loaded,
        "matched": len(matches or {}), "problems": problems,
        "file_form": file_form or MappingFileForm(kind=job.kind),
        "saved_mappings": selectors.import_mapping_list(request.organization, kind=job.kind),
    }, status=status)


@collector_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    job = _job(request, pk)
    if job.status != ImportStatus.PENDING:
        return redirect("importing:job", pk=job.pk)
    table = _kept_table(request, job)
    if table is None:
        return redirect("importing:job", pk=job.pk)
    if request.method == "POST" and "load_file" in request.POST:  # an uploaded mapping prefills the form
        file_form = MappingFileForm(request.POST, request.FILES, kind=job.kind)
        if not file_form.is_valid():
            form = MappingForm(kind=job.kind, header=table.header)
            return _mapping_page(request, job, table, form, file_form=file_form, status=400)
        mapping = file_form.mapping
        form = MappingForm(kind=job.kind, header=table.header, initial=MappingForm.initial_from(mapping))
        problems = [f"{error.column}: {error.message}" if error.column else error.message
                    for error in mapping_check(mapping, table.header)]
        return _mapping_page(request, job, table, form, loaded=file_form.cleaned_data["mapping_file"].name,
                             problems=problems)
    initial_mapping, saved, matches = _initial_mapping(request, job, table)
    initial = MappingForm.initial_from(initial_mapping)
    if saved is not None:
        initial["save_as"] = saved.name
    form = MappingForm(request.POST or None, kind=job.kind, header=table.header, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_configure(organization=request.organization, actor=request.user, job=job,
                                          mapping=form.mapping, save_as=form.cleaned_data["save_as"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("importing:preview", pk=job.pk)
    return _mapping_page(request, job, table, form, saved=saved, matches=matches if request.method == "GET" else None)


@collector_required
@require_GET
def import_preview(request, pk: int):
    job = _job(request, pk)
    if job.status != ImportStatus.PENDING:
        return redirect("importing:job", pk=job.pk)
    if not job.mapping:
        return redirect("importing:mapping", pk=job.pk)
    table = _kept_table(request, job)
    if table is None:
        return redirect("importing:job", pk=job.pk)
    preview = selectors.import_preview(request.organization, table=table,
                                       mapping=mapping_from_dict(job.mapping, kind=job.kind))
    return render(request, TEMPLATES + "preview.html", {"job": job, "preview": preview})


@collector_required
@require_POST
def import_confirm(request, pk: int):
    job = _job(request, pk)
    try:
        services.import_job_start(organization=request.organization, actor=request.user, job=job)
    except DomainError as exc:  # already started, or no mapping yet
        messages.error(request, exc.message)
    return redirect("importing:job", pk=job.pk)


@collector_required
@require_GET
def import_job(request, pk: int):
    job = _job(request, pk)
    services.import_job_read_resume(organization=request.organization, job=job)
    if job.status == ImportStatus.PENDING and not job.mapping:
        return redirect("importing:mapping", pk=job.pk)  # read: the mapping is next
    return render(request, TEMPLATES + "job.html", {
        "job": job, "progress": selectors.import_job_progress(job),
        "status_url": reverse("importing:status", kwargs={"pk": job.pk}),
        "next_url": reverse("importing:mapping", kwargs={"pk": job.pk}) if job.status == ImportStatus.READING else "",
    })


@collector_required
@require_GET
def import_status(request, pk: int):
    job = _job(request, pk)
    services.import_job_read_resume(organization=request.organization, job=job)
    return JsonResponse(selectors.import_job_progress(job))
