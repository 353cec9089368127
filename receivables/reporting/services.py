"""Writes for the weekly aging report: the schedule, claiming a week, and delivering a report.

Exactly once per organization per week: `weekly_report_claim` inserts the scheduled report's
row, unique on (organization, week_start); whoever inserts it queues the delivery (on commit),
everyone else finds the row and does nothing. Delivery then moves the row
pending -> rendering -> sent | failed with a conditional UPDATE, so of two workers handed the
same report only one renders and mails it. A failed attempt is recorded (visible in the
archive) and retried by the task with back-off; a failed row may be claimed again, a sent one
never.

Manual reports ("send now") are separate rows of kind `manual`: they do not count as the
week's scheduled report (which still goes out on its day) and at most one is in flight per
organization (a partial unique index), so a double click sends one.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import parseaddr

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import (
    WeeklyReport,
    WeeklyReportKind,
    WeeklyReportSchedule,
    WeeklyReportStatus,
)
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Language, Membership, Organization, Role, validate_timezone
from tenancy.services import Actor, audit_record, role_require

from .selectors import (
    stale_claim_cutoff,
    weekly_report_data,
    weekly_report_recipients,
    weekly_reports_stuck,
    weekly_schedule_get,
)

logger = logging.getLogger(__name__)

MAX_EXTERNAL_RECIPIENTS = 20
CLAIMABLE = (WeeklyReportStatus.PENDING, WeeklyReportStatus.FAILED)


# --- schedule ------------------------------------------------------------------------------

def _clean_external(addresses: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in addresses:
        address = parseaddr(raw.strip())[1] if raw.strip() else ""
        try:
            validate_email(address)
        except ValidationError:
            raise DomainError(_("%(address)s is not a valid email address.") % {"address": raw.strip() or '""'},
                              field="external_recipients") from None
        if address.lower() not in {a.lower() for a in cleaned}:
            cleaned.append(address)
    if len(cleaned) > MAX_EXTERNAL_RECIPIENTS:
        raise DomainError(_("At most %(max)s external recipients.") % {"max": MAX_EXTERNAL_RECIPIENTS},
                          field="external_recipients")
    return cleaned


@transaction.atomic
def weekly_schedule_update(
    *,
    organization: Organization,
    actor: Actor,
    enabled: bool,
    weekday: int,
    send_time: dt.time,
    timezone_name: str,
    language: str,
    recipients: list[AbstractBaseUser],
    external_recipients: list[str],
) -> WeeklyReportSchedule:
    """Set when and to whom the weekly report goes (admins only)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if weekday not in range(7):
        raise DomainError(_("Weekday must be 0 (Monday) to 6 (Sunday)."), field="weekday")
    try:
        validate_timezone(timezone_name)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="timezone") from None
    if language not in Language.values:
        raise DomainError(_("Language must be English or Simplified Chinese."), field="language")
    member_ids = set(Membership.objects.filter(organization=organization, user__in=[u.pk for u in recipients])
                     .values_list("user_id", flat=True))
    strangers = [u for u in recipients if u.pk not in member_ids]
    if strangers:
        raise DomainError(_("%(user)s is not a member of %(org)s.") % {"user": strangers[0].get_username(),
                                                                        "org": organization.name},
                          field="recipients")
    external = _clean_external(external_recipients)
    if enabled and not recipients and not external:
        raise DomainError(_("Add at least one recipient before turning the weekly report on."), field="recipients")

    schedule = weekly_schedule_get(organization)
    before = None if schedule.pk is None else _schedule_snapshot(schedule)
    schedule.enabled, schedule.weekday, schedule.send_time = enabled, weekday, send_time
    schedule.timezone, schedule.language, schedule.external_recipients = timezone_name, language, external
    schedule.save()
    schedule.recipients.set(recipients)
    audit_record(organization=organization, actor=actor, action="weekly_report_schedule.updated", obj=schedule,
                 before=before, after=_schedule_snapshot(schedule))
    return schedule


def _schedule_snapshot(schedule: WeeklyReportSchedule) -> dict:
    return {
        "enabled": schedule.enabled, "weekday": schedule.weekday, "send_time": schedule.send_time.isoformat(),
        "timezone": schedule.timezone, "language": schedule.language,
        "recipients": sorted(schedule.recipients.values_list("username", flat=True)),
        "external_recipients": schedule.external_recipients,
    }


# --- claiming ------------------------------------------------------------------------------

def _queue_delivery(report_id: int) -> None:
    from .tasks import weekly_report_deliver_task

    # robust: in the embedded default the task runs right here, eagerly; its failure is
    # already recorded on the row and must not break the request or the dispatcher.
    transaction.on_commit(lambda: weekly_report_deliver_task.delay(report_id), robust=True)


@transaction.atomic
def weekly_report_claim(*, organization: Organization, week_start: dt.date) -> WeeklyReport | None:
    """Create this week's scheduled report and queue its delivery, unless it exists already.

    Returns the new report, or None when another run claimed the week first."""
    schedule = weekly_schedule_get(organization)
    as_of = week_start + dt.timedelta(days=schedule.weekday)
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
            report, created = WeeklyReport.objects.get_or_create(
                organization=organization, kind=WeeklyReportKind.SCHEDULED, week_start=week_start,
                defaults={"as_of": as_of, "language": schedule.language},
            )
    except IntegrityError:
        return None  # a concurrent claim inserted it between our SELECT and INSERT
    if not created:
        return None
    audit_record(organization=organization, actor=None, action="weekly_report.claimed", obj=report,
                 after={"kind": report.kind, "week_start": week_start, "as_of": as_of})
    _queue_delivery(report.pk)
    return report


@transaction.atomic
def weekly_report_request(*, organization: Organization, actor: Actor) -> WeeklyReport:
    """"Send now": a manual report as of today (local), to the schedule's recipients (admins only)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    schedule = weekly_schedule_get(organization)
    if not weekly_report_recipients(organization, schedule):
        raise DomainError(_("Add at least one recipient in the schedule before sending."), field="recipients")
    today = local_today(schedule.timezone or organization.timezone)
    try:
        with transaction.atomic():
            report = WeeklyReport.objects.create(
                organization=organization, kind=WeeklyReportKind.MANUAL, as_of=today,
                week_start=today - dt.timedelta(days=today.weekday()), language=schedule.language,
                requested_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:
        raise DomainError(_("A report is already being produced; wait for it to finish."),
                          code=ErrorCode.DUPLICATE) from None
    audit_record(organization=organization, actor=actor, action="weekly_report.requested", obj=report,
                 after={"kind": report.kind, "as_of": today})
    _queue_delivery(report.pk)
    return report


def weekly_reports_requeue_stuck() -> list[int]:
    """Queue the delivery of every report whose delivery was lost (a worker killed while
    rendering, a queueing that failed after the commit) again; the ids queued.

    Safe to repeat: only one delivery of a report can take it (`weekly_report_start`)."""
    stuck = weekly_reports_stuck(timezone.now())
    for report_id in stuck:
        logger.warning("weekly report %s is stuck; queueing its delivery again", report_id)
        _queue_delivery(report_id)
    return stuck


def weekly_report_start(*, report_id: int) -> bool:
    """Move a report to rendering if nobody else holds it; True when this caller now does.

    A rendering row with a stale claim (`selectors.stale_claim_cutoff`) is taken over."""
    # A row whose mail was handed to the server (sent_at set while rendering: "sending") is never taken.
    claimable = (Q(status__in=CLAIMABLE)
                 | Q(status=WeeklyReportStatus.RENDERING, claimed_at__lt=stale_claim_cutoff(timezone.now()),
                     sent_at__isnull=True))
    taken = WeeklyReport.objects.filter(claimable, pk=report_id).update(
        status=WeeklyReportStatus.RENDERING, attempts=F("attempts") + 1, claimed_at=timezone.now(), error="",
    )
    return taken == 1


# --- delivery ------------------------------------------------------------------------------

def weekly_report_deliver(*, report_id: int) -> WeeklyReport | None:
    """Render, store and mail one report, once. None when another worker holds or sent it.

    Not one transaction: the claim commits first so a second worker sees it; a failure is
    recorded on the row, then re-raised for the task to retry."""
    if not weekly_report_start(report_id=report_id):
        return None
    report = WeeklyReport.objects.select_related("organization").get(pk=report_id)
    try:
        _render_and_send(report)
    except Exception as exc:
        # Only a report whose mail did not go out may fail (and be retried); one marked sending stays
        # so: its mail may have gone, and a retry must never mail it twice.
        WeeklyReport.objects.filter(pk=report_id, status=WeeklyReportStatus.RENDERING, sent_at__isnull=True).update(
            status=WeeklyReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        logger.warning("weekly report %s failed (attempt %s): %s", report_id, report.attempts, exc)
        raise
    return report


def _mail_once(report: WeeklyReport, message) -> None:
    """Mark the report "sending" (sent_at set, still rendering) and commit that before the SMTP
    call, like dunning messages: if recording "sent" fails after the mail went out, no retry or
    second worker takes the row again. A refused or failed SMTP call clears the mark (nothing went
    out), so the report fails and is retried."""
    marked = WeeklyReport.objects.filter(pk=report.pk, status=WeeklyReportStatus.RENDERING,
                                         sent_at__isnull=True).update(sent_at=timezone.now())
    if marked != 1:
        raise DomainError(_("This report is already being sent."))
    try:
        message.send(fail_silently=False)
    except Exception:
        WeeklyReport.objects.filter(pk=report.pk, status=WeeklyReportStatus.RENDERING).update(sent_at=None)
        raise


def _render_and_send(report: WeeklyReport) -> None:
    from .mail import weekly_report_email
    from .pdf import weekly_report_pdf
    from .xlsx import weekly_report_xlsx

    organization = report.organization
    schedule = weekly_schedule_get(organization)
    recipients = weekly_report_recipients(organization, schedule)
    if not recipients:
        raise DomainError(_("The weekly report has no recipients."), field="recipients")
    data = weekly_report_data(organization, report.as_of)
    pdf = weekly_report_pdf(data, report.language, generated_at=timezone.now())
    xlsx = weekly_report_xlsx(data, report.language)
    stem = f"aging-{organization.slug}-{report.as_of.isoformat()}-{report.pk}"
    with transaction.atomic():
        report.pdf.save(f"{organization.pk}/{stem}.pdf", ContentFile(pdf.content), save=False)
        report.xlsx.save(f"{organization.pk}/{stem}.xlsx", ContentFile(xlsx), save=False)
        report.page_count = pdf.pages
        report.recipients = recipients
        report.save(update_fields=["pdf", "xlsx", "page_count", "recipients"])
    message = weekly_report_email(report, data, recipients=recipients, pdf=pdf.content, xlsx=xlsx)
    _mail_once(report, message)
    with transaction.atomic():
        WeeklyReport.objects.filter(pk=report.pk).update(status=WeeklyReportStatus.SENT, sent_at=timezone.now(),
                                                         error="")
        report.refresh_from_db()
        audit_record(organization=organization, actor=None, action="weekly_report.sent", obj=report,
                     after={"as_of": report.as_of, "recipients": recipients, "pages": pdf.pages})
