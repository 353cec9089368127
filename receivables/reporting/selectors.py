"""Reads for the weekly aging report: schedules and due-ness, the archive, and the report's data.

The report's totals come from `receivables.selectors.aging_report` and `dso_report`, so they
tie to the dashboard to the cent. Its extra sections (top overdue invoices, changes since last
week) are aggregated by the database in a fixed number of queries, whatever the ledger size.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import translation

from receivables.gates import customers_over_limit_count
from receivables.models import (
    Customer,
    Invoice,
    Payment,
    WeeklyReport,
    WeeklyReportKind,
    WeeklyReportSchedule,
    WeeklyReportStatus,
)
from receivables.reporting.sections import BuiltSection, sections_build
from receivables.selectors import (
    AgingReport,
    DsoReport,
    FxGap,
    FxTable,
    _open_items_sql,
    _table,
    aging_report,
    dso_report,
    fx_gaps_merge,
)
from tenancy.models import Organization
from tenancy.money import ZERO, sql_decimal

TOP_OVERDUE_LIMIT = 10
WEEK = dt.timedelta(days=7)
# A pending report whose delivery has not started after this long was never queued (the
# queueing after its commit failed) or its message was lost: the dispatcher queues it again.
STUCK_PENDING_AFTER = dt.timedelta(minutes=15)


# --- schedules -----------------------------------------------------------------------------

def weekly_schedule_get(organization: Organization) -> WeeklyReportSchedule:
    """The organization's schedule, or an unsaved default (off, Monday 08:00, its time zone)."""
    schedule = WeeklyReportSchedule.objects.filter(organization=organization).first()
    if schedule is None:
        schedule = WeeklyReportSchedule(organization=organization, timezone=organization.timezone,
                                        language=organization.default_language)
    return schedule


@dataclass(frozen=True)
class WeeklySlot:
    """One week of a schedule: the local Monday that names it and the moment it is due."""

    week_start: dt.date
    due_at: dt.datetime  # aware, in the schedule's time zone
    as_of: dt.date  # the local date of the due moment: what the report is "as of"


def weekly_slot(schedule: WeeklyReportSchedule, now: dt.datetime) -> WeeklySlot:
    """The schedule's slot in the local week containing `now` (weeks start on Monday)."""
    tz = zoneinfo.ZoneInfo(schedule.timezone)
    local_now = now.astimezone(tz)
    week_start = local_now.date() - dt.timedelta(days=local_now.weekday())
    as_of = week_start + dt.timedelta(days=schedule.weekday)
    due_at = dt.datetime.combine(as_of, schedule.send_time, tzinfo=tz)
    return WeeklySlot(week_start, due_at, as_of)


def weekly_reports_due(now: dt.datetime) -> list[tuple[int, dt.date]]:
    """(organization id, week_start) of every enabled schedule whose slot this week has come
    and whose week has no scheduled report yet. Two queries for all organizations.

    A slot missed while nothing ran (downtime) is caught up later in the same local week,
    never in the next one: a report always describes the week it names."""
    slots = {
        schedule.organization_id: weekly_slot(schedule, now)
        for schedule in WeeklyReportSchedule.objects.filter(enabled=True).only(
            "organization_id", "weekday", "send_time", "timezone")
    }
    ripe = {org_id: slot.week_start for org_id, slot in slots.items() if slot.due_at <= now}
    if not ripe:
        return []
    done = set(
        WeeklyReport.objects.filter(kind=WeeklyReportKind.SCHEDULED, organization_id__in=ripe,
                                    week_start__in=set(ripe.values()))
        .values_list("organization_id", "week_start")
    )
    return sorted((org_id, week) for org_id, week in ripe.items() if (org_id, week) not in done)


def stale_claim_cutoff(now: dt.datetime) -> dt.datetime:
    """Claims older than this belong to a worker that died: a rendering row outlives the task's
    hard time limit only when its worker was killed before it could record the outcome."""
    return now - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def weekly_reports_stuck(now: dt.datetime) -> list[int]:
    """Ids of reports (scheduled and manual) whose delivery was lost and must be queued again:
    rendering with a stale claim, or pending for longer than STUCK_PENDING_AFTER. One query."""
    stuck = (Q(status=WeeklyReportStatus.RENDERING, claimed_at__lt=stale_claim_cutoff(now), sent_at__isnull=True)
             | Q(status=WeeklyReportStatus.PENDING, created_at__lt=now - STUCK_PENDING_AFTER))
    return list(WeeklyReport.objects.filter(stuck).order_by("pk").values_list("pk", flat=True))


# --- archive -------------------------------------------------------------------------------

def weekly_report_list(organization: Organization) -> QuerySet[WeeklyReport]:
    """The organization's produced reports, newest first."""
    return WeeklyReport.objects.filter(organization=organization).select_related("requested_by")


def weekly_report_recipients(organization: Organization, schedule: WeeklyReportSchedule) -> list[str]:
    """Addresses to mail: member recipients who are still members and have an email, then the
    external addresses, without duplicates (case-insensitive), in a stable order."""
    members: Iterable[str] = []
    if schedule.pk is not None:
        members = (schedule.recipients.filter(memberships__organization=organization)
                   .exclude(email="").order_by("email").values_list("email", flat=True))
    seen: set[str] = set()
    result = []
    for address in [*members, *schedule.external_recipients]:
        if address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result


# --- report data ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OverdueInvoice:
    invoice_id: int
    number: str
    customer_name: str
    currency: str
    due_date: dt.date
    days_overdue: int
    balance: Decimal  # in the invoice's currency
    balance_base: Decimal  # in the organization's base currency


@dataclass(frozen=True)
class WeekChange:
    count: int
    amount: Decimal  # base currency


@dataclass(frozen=True)
class WeeklyChanges:
    since: dt.date  # exclusive: the previous report's as-of date
    new_overdue: WeekChange  # fell due during the week and still open
    collected: WeekChange  # payments received during the week
    invoiced: WeekChange  # invoices issued during the week (not voided by as_of)
    fx_gaps: list[FxGap] = field(default_factory=list)  # rates missing: those amounts are left out


@dataclass(frozen=True)
class WeeklyReportData:
    organization: Organization
    as_of: dt.date
    currency: str
    aging: AgingReport
    previous_aging: AgingReport
    dso: DsoReport
    previous_dso: DsoReport
    top_overdue: list[OverdueInvoice]
    changes: WeeklyChanges
    customers_over_limit: int | None  # None: the organization has set no credit limits
    sections: list[BuiltSection] = field(default_factory=list)  # what higher apps registered (sections.py)

    @property
    def total_change(self) -> Decimal:
        return self.aging.total - self.previous_aging.total

    @property
    def overdue_change(self) -> Decimal:
        return self.aging.overdue - self.previous_aging.overdue

    @property
    def fx_gaps(self) -> list[FxGap]:
        """Every rate the report needed and did not have (one per currency): shown as warnings."""
        return fx_gaps_merge(self.aging.fx_gaps, self.previous_aging.fx_gaps, self.dso.fx_gaps,
                             self.previous_dso.fx_gaps, self.changes.fx_gaps)

    @property
    def dso_change(self) -> Decimal | None:
        if self.dso.standard is None or self.previous_dso.standard is None:
            return None
        return self.dso.standard - self.previous_dso.standard


def _as_date(value) -> dt.date:
    # SQLite returns raw SQL dates as strings.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def top_overdue_invoices(organization: Organization, as_of: dt.date, *, limit: int = TOP_OVERDUE_LIMIT,
                         fx: FxTable | None = None) -> list[OverdueInvoice]:
    """The `limit` largest overdue balances on `as_of`, in base currency.

    The database ranks within each currency (a window function) so at most `limit` rows per
    currency come back; converting at one rate per currency keeps that order, so the merged
    top is exact. Two queries (rows, FX)."""
    # Only table names are interpolated; every value is a query parameter.
    sql = _open_items_sql() + f""",
        ranked AS (
            SELECT o.id, o.customer_id, o.currency, o.due_date, o.balance,
                   ROW_NUMBER() OVER (PARTITION BY o.currency ORDER BY o.balance DESC, o.due_date, o.id) AS rn
            FROM open_items o WHERE o.due_date < %(as_of)s AND o.balance > 0
        )
        SELECT r.id, i.number, c.name, r.currency, r.due_date, r.balance
        FROM ranked r JOIN {_table(Invoice)} i ON i.id = r.id JOIN {_table(Customer)} c ON c.id = r.customer_id
        WHERE r.rn <= %(limit)s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, {"org": organization.pk, "as_of": as_of, "limit": limit})
        rows = cursor.fetchall()
    # Lenient: an invoice without a rate is valued at zero here; the aging report names the gap.
    fx = fx or FxTable.load(organization, {row[3] for row in rows}, as_of, lenient=True)
    items = []
    for pk, number, customer_name, currency, due_date, balance in rows:
        due_date, balance = _as_date(due_date), sql_decimal(balance)
        items.append(OverdueInvoice(pk, number, customer_name, currency, due_date, (as_of - due_date).days,
                                    balance, fx.convert(balance, currency, as_of)))
    items.sort(key=lambda item: (-item.balance_base, item.due_date, item.invoice_id))
    return items[:limit]


def _change(rows: Iterable[tuple[str, dt.date, int, Decimal]], fx: FxTable) -> WeekChange:
    """Sum (currency, date, count, amount) groups into base currency, each at its date's rate."""
    count, amount = 0, ZERO
    for currency, on, n, total in rows:
        count += n
        amount += fx.convert(sql_decimal(total), currency, _as_date(on))
    return WeekChange(count, amount)


def weekly_changes(organization: Organization, as_of: dt.date) -> WeeklyChanges:
    """What moved in the week ending on `as_of` (the seven days after the previous report's
    as-of date): invoices that fell overdue and are still open, cash received, invoices issued.
    Four queries."""
    since = as_of - WEEK
    sql = _open_items_sql() + """
        SELECT o.currency, o.due_date, COUNT(*), SUM(o.balance) FROM open_items o
        WHERE o.due_date >= %(since)s AND o.due_date < %(as_of)s AND o.balance > 0
        GROUP BY o.currency, o.due_date
    """  # noqa: S608 - values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, {"org": organization.pk, "as_of": as_of, "since": since})
        overdue_rows = cursor.fetchall()
    collected_rows = list(
        Payment.objects.filter(organization=organization, received_on__gt=since, received_on__lte=as_of)
        .values("currency", "received_on").annotate(n=Count("pk"), s=Sum("amount"))
        .values_list("currency", "received_on", "n", "s")
    )
    invoiced_rows = list(
        Invoice.objects.filter(organization=organization, issue_date__gt=since, issue_date__lte=as_of)
        .exclude(voided_on__lte=as_of)
        .values("currency", "issue_date").annotate(n=Count("pk"), s=Sum("total_amount"))
        .values_list("currency", "issue_date", "n", "s")
    )
    currencies = {row[0] for row in [*overdue_rows, *collected_rows, *invoiced_rows]}
    fx = FxTable.load(organization, currencies, as_of, lenient=True)
    # An overdue balance is valued on as_of, like the aging report; cash on the day it came in.
    return WeeklyChanges(
        since=since,
        new_overdue=_change(((c, as_of, n, s) for c, _d, n, s in overdue_rows), fx),
        collected=_change(collected_rows, fx),
        invoiced=_change(invoiced_rows, fx),
        fx_gaps=fx.gaps,
    )


def customers_over_limit(organization: Organization, as_of: dt.date) -> int | None:
    """How many customers' exposure exceeds their credit limit on `as_of` (the credit app's
    count); None while the organization has set no limits, so the report leaves the KPI out."""
    return customers_over_limit_count(organization, as_of)


def weekly_report_data(organization: Organization, as_of: dt.date) -> WeeklyReportData:
    """Everything the weekly PDF, XLSX and email show for `as_of`, compared with a week before."""
    previous = as_of - WEEK
    return WeeklyReportData(
        organization=organization,
        as_of=as_of,
        currency=organization.base_currency,
        aging=aging_report(organization, as_of, lenient=True),
        previous_aging=aging_report(organization, previous, lenient=True),
        dso=dso_report(organization, as_of),
        previous_dso=dso_report(organization, previous),
        top_overdue=top_overdue_invoices(organization, as_of),
        changes=weekly_changes(organization, as_of),
        customers_over_limit=customers_over_limit(organization, as_of),
        sections=sections_build(organization, as_of, translation.get_language() or organization.default_language),
    )
