"""Reports whose delivery was lost (a worker killed while rendering, a queueing that failed after
the commit) are delivered by the next dispatch; a report a live worker is rendering is left alone."""

import datetime as dt

import time_machine

from receivables.models import WeeklyReport, WeeklyReportKind, WeeklyReportStatus
from receivables.reporting import tasks
from receivables.reporting.selectors import STUCK_PENDING_AFTER, stale_claim_cutoff, weekly_reports_stuck

# Monday 12:00 in Shanghai: the organization's slot (Monday 08:00) has come and its week has a row.
NOW = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def report(organization, *, status, week_start=dt.date(2026, 3, 2), kind=WeeklyReportKind.SCHEDULED,
           created_at=NOW, claimed_at=None, attempts=0):
    row = WeeklyReport.objects.create(organization=organization, kind=kind, week_start=week_start,
                                      as_of=week_start, status=status, attempts=attempts)
    WeeklyReport.objects.filter(pk=row.pk).update(created_at=created_at, claimed_at=claimed_at)
    return row


def test_stuck_reports_are_stale_rendering_and_old_pending_rows_only(organization, other_organization):
    dead = report(organization, status=WeeklyReportStatus.RENDERING, week_start=dt.date(2026, 2, 23),
                  created_at=NOW - 2 * STUCK_PENDING_AFTER, claimed_at=stale_claim_cutoff(NOW) - MINUTE, attempts=1)
    lost = report(organization, status=WeeklyReportStatus.PENDING, created_at=NOW - STUCK_PENDING_AFTER - MINUTE)
    lost_manual = report(organization, status=WeeklyReportStatus.PENDING, kind=WeeklyReportKind.MANUAL,
                         created_at=NOW - STUCK_PENDING_AFTER - MINUTE)
    report(other_organization, status=WeeklyReportStatus.RENDERING, created_at=NOW - 2 * STUCK_PENDING_AFTER,
           claimed_at=stale_claim_cutoff(NOW) + MINUTE, attempts=1)  # a live worker's
    report(other_organization, status=WeeklyReportStatus.PENDING, week_start=dt.date(2026, 2, 23),
           created_at=NOW - STUCK_PENDING_AFTER + MINUTE)  # just queued
    report(other_organization, status=WeeklyReportStatus.FAILED, week_start=dt.date(2026, 2, 16),
           created_at=NOW - 10 * STUCK_PENDING_AFTER, attempts=6)  # retries exhausted: shown, not retried

    assert weekly_reports_stuck(NOW) == sorted([dead.pk, lost.pk, lost_manual.pk])


def test_the_next_dispatch_delivers_stuck_reports_and_leaves_a_live_render_alone(
        organization, other_organization, customer, book, schedule, smtp_settings,
        django_capture_on_commit_callbacks):
    dead = report(organization, status=WeeklyReportStatus.RENDERING, week_start=dt.date(2026, 2, 23),
                  created_at=NOW - dt.timedelta(hours=2), claimed_at=NOW - dt.timedelta(hours=1), attempts=1)
    lost = report(organization, status=WeeklyReportStatus.PENDING, created_at=NOW - dt.timedelta(minutes=20))
    lost_manual = report(organization, status=WeeklyReportStatus.PENDING, kind=WeeklyReportKind.MANUAL,
                         created_at=NOW - dt.timedelta(minutes=20))
    live = report(other_organization, status=WeeklyReportStatus.RENDERING, created_at=NOW - dt.timedelta(minutes=5),
                  claimed_at=NOW - dt.timedelta(minutes=5), attempts=1)

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        claims = tasks.weekly_report_dispatch_task.delay().get()

    assert claims == []  # the organization's week has its row: nothing new to claim
    rows = {row.pk: row for row in WeeklyReport.objects.all()}
    assert [(rows[r.pk].status, rows[r.pk].attempts) for r in (dead, lost, lost_manual)] == [
        (WeeklyReportStatus.SENT, 2), (WeeklyReportStatus.SENT, 1), (WeeklyReportStatus.SENT, 1)]
    assert (rows[live.pk].status, rows[live.pk].attempts, rows[live.pk].claimed_at) == (
        WeeklyReportStatus.RENDERING, 1, NOW - dt.timedelta(minutes=5))
    assert len(smtp_settings.envelopes) == 3

    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        tasks.weekly_report_dispatch_task.delay().get()
    assert len(smtp_settings.envelopes) == 3  # sent reports are never stuck
