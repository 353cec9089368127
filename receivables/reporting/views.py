"""Pages of the weekly aging report: archive, schedule, preview, send now, download.

Thin: forms parse, services write, selectors read. Every object is looked up within
request.organization, so another organization's report is a 404 like a missing one."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from receivables.models import WeeklyReport, WeeklyReportStatus
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import form_error_from_domain
from tenancy.models import Language, Role
from tenancy.views import organization_required, role_at_least

from . import selectors, services
from .forms import WeeklyScheduleForm
from .pdf import weekly_report_pdf

ARCHIVE_SIZE = 100


@organization_required
def report_archive(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    schedule = selectors.weekly_schedule_get(organization)
    reports = selectors.weekly_report_list(organization)[:ARCHIVE_SIZE]
    next_slot = None
    if schedule.enabled:
        slot = selectors.weekly_slot(schedule, timezone.now())
        next_slot = slot.due_at if slot.due_at > timezone.now() else slot.due_at + selectors.WEEK
    return render(request, "receivables/reporting/archive.html", {
        "schedule": schedule, "reports": reports, "next_slot": next_slot,
        "recipients": selectors.weekly_report_recipients(organization, schedule),
        "is_admin": role_at_least(request, Role.ADMIN), "languages": Language.choices,
    })


def _schedule_initial(schedule) -> dict:
    return {
        "enabled": schedule.enabled, "weekday": schedule.weekday, "send_time": schedule.send_time,
        "timezone": schedule.timezone, "language": schedule.language,
        "recipients": list(schedule.recipients.all()) if schedule.pk else [],
        "external_recipients": "\n".join(schedule.external_recipients),
    }


@organization_required
def schedule_edit(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    schedule = selectors.weekly_schedule_get(organization)
    form = WeeklyScheduleForm(request.POST or None, organization=organization, initial=_schedule_initial(schedule))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.weekly_schedule_update(
                organization=organization, actor=request.user, enabled=data["enabled"], weekday=data["weekday"],
                send_time=data["send_time"], timezone_name=data["timezone"], language=data["language"],
                recipients=list(data["recipients"]), external_recipients=data["external_recipients"],
            )
        except DomainError as error:
            form_error_from_domain(form, error)
        else:
            messages.success(request, _("Weekly report schedule saved."))
            return redirect("reporting:archive")
    return render(request, "receivables/reporting/schedule.html", {
        "form": form, "is_admin": role_at_least(request, Role.ADMIN),
    }, status=400 if request.method == "POST" else 200)


@organization_required
def report_preview(request: HttpRequest) -> HttpResponse:
    """Render this week's PDF inline, as of today (or ?as_of=), without storing or mailing it."""
    if not role_at_least(request, Role.ADMIN):
        return HttpResponse(_("Only admins can preview the weekly report."), status=403, content_type="text/plain")
    organization = request.organization
    schedule = selectors.weekly_schedule_get(organization)
    language = request.GET.get("language") or schedule.language
    if language not in Language.values:
        raise Http404
    try:
        as_of = _as_of(request, schedule.timezone or organization.timezone)
        data = selectors.weekly_report_data(organization, as_of)
    except DomainError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain")
    pdf = weekly_report_pdf(data, language, generated_at=timezone.now())
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="preview-{organization.slug}-{as_of.isoformat()}.pdf"'
    return response


def _as_of(request: HttpRequest, tz_name: str) -> dt.date:
    raw = request.GET.get("as_of")
    if not raw:
        return local_today(tz_name)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(_("as_of: use a date like 2026-03-02.")) from None


@organization_required
@require_POST
def report_send_now(request: HttpRequest) -> HttpResponse:
    try:
        report = services.weekly_report_request(organization=request.organization, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        report.refresh_from_db()  # in the embedded default it was already delivered, eagerly
        if report.status == WeeklyReportStatus.SENT:
            messages.success(request, _("The report was sent to %(count)s recipients.") % {"count": len(report.recipients)})
        elif report.status == WeeklyReportStatus.FAILED:
            messages.error(request, _("The report failed: %(error)s") % {"error": report.error})
        else:
            messages.success(request, _("The report is being produced; it will appear below when sent."))
    return redirect("reporting:archive")


@organization_required
def report_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    report = get_object_or_404(WeeklyReport, organization=request.organization, pk=pk)
    if kind not in ("pdf", "xlsx"):
        raise Http404
    file = getattr(report, kind)
    if not file:
        raise Http404(_("This report has no file yet."))
    filename = f"aging-{request.organization.slug}-{report.as_of.isoformat()}.{kind}"
    return FileResponse(file.open("rb"), as_attachment=kind == "xlsx", filename=filename)
