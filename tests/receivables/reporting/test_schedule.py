"""Due-ness in each organization's own time zone, and the dispatcher's exactly-once claim."""

import datetime as dt

import pytest
import time_machine

from receivables.models import WeeklyReport, WeeklyReportKind
from receivables.reporting import services, tasks
from receivables.reporting.selectors import weekly_reports_due
from tenancy.errors import DomainError

from .conftest import make_schedule

UTC = dt.UTC


@pytest.fixture
def monday_8am_shanghai(organization):
    return make_schedule(organization, weekday=0, send_time=dt.time(8, 0), timezone="Asia/Shanghai")


def test_due_once_the_local_slot_has_come_across_the_utc_day_boundary(organization, monday_8am_shanghai):
    # Sunday 23:59 UTC is Monday 07:59 in Shanghai: not yet; Monday 00:00 UTC is 08:00 there: due.
    with time_machine.travel(dt.datetime(2026, 3, 1, 23, 59, tzinfo=UTC), tick=False):
        assert weekly_reports_due(dt.datetime.now(UTC)) == []
    with time_machine.travel(dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC), tick=False):
        assert weekly_reports_due(dt.datetime.now(UTC)) == [(organization.pk, dt.date(2026, 3, 2))]


def test_a_western_organization_is_due_on_its_own_monday(other_organization):
    make_schedule(other_organization, weekday=0, send_time=dt.time(8, 0), timezone="America/New_York")
    WeeklyReport.objects.create(organization=other_organization, week_start=dt.date(2026, 2, 23),
                                as_of=dt.date(2026, 2, 23))  # last week's went out
    # Monday 08:00 in Shanghai is still Sunday evening in New York: its week of Feb 23 is done.
    with time_machine.travel(dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC), tick=False):
        assert weekly_reports_due(dt.datetime.now(UTC)) == []
    with time_machine.travel(dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC), tick=False):  # 08:00 EST
        assert weekly_reports_due(dt.datetime.now(UTC)) == [(other_organization.pk, dt.date(2026, 3, 2))]


def test_a_disabled_schedule_is_never_due(organization):
    make_schedule(organization, enabled=False)
    assert weekly_reports_due(dt.datetime(2026, 3, 4, tzinfo=UTC)) == []


def test_a_missed_slot_is_caught_up_later_the_same_week_only(organization, monday_8am_shanghai):
    wednesday = dt.datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert weekly_reports_due(wednesday) == [(organization.pk, dt.date(2026, 3, 2))]
    WeeklyReport.objects.create(organization=organization, week_start=dt.date(2026, 3, 2), as_of=dt.date(2026, 3, 2))
    assert weekly_reports_due(wednesday) == []


def test_dispatcher_run_twice_claims_one_report_per_organization_per_week(
        organization, other_organization, book, django_capture_on_commit_callbacks, smtp_settings):
    make_schedule(organization, weekday=0, send_time=dt.time(8, 0), timezone="Asia/Shanghai")
    make_schedule(other_organization, weekday=0, send_time=dt.time(8, 0), timezone="America/New_York")
    monday_afternoon = time_machine.travel(dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC), tick=False)
    with monday_afternoon, django_capture_on_commit_callbacks(execute=True):
        first = tasks.weekly_report_dispatch_task.delay().get()
        second = tasks.weekly_report_dispatch_task.delay().get()
        again = tasks.weekly_report_claim_task.delay(organization.pk, "2026-03-02").get()
    assert sorted(first) == sorted([[organization.pk, "2026-03-02"], [other_organization.pk, "2026-03-02"]])
    assert second == [] and again is None
    reports = WeeklyReport.objects.filter(kind=WeeklyReportKind.SCHEDULED)
    assert sorted(reports.values_list("organization_id", "week_start", "status")) == sorted([
        (organization.pk, dt.date(2026, 3, 2), "sent"), (other_organization.pk, dt.date(2026, 3, 2), "sent")])
    assert len(smtp_settings.envelopes) == 2


def test_schedule_update_needs_an_admin(organization, viewer):
    with pytest.raises(DomainError) as info:
        services.weekly_schedule_update(organization=organization, actor=viewer, enabled=False, weekday=0,
                                        send_time=dt.time(8), timezone_name="Asia/Shanghai", language="en",
                                        recipients=[], external_recipients=[])
    assert str(info.value) == "This needs the Admin role in Acme Trading."


def test_schedule_update_rejects_a_bad_address_and_an_outsider(organization, admin_user, user_factory):
    args = {"organization": organization, "actor": admin_user, "enabled": True, "weekday": 4,
            "send_time": dt.time(9), "timezone_name": "Asia/Shanghai", "language": "zh-hans"}
    with pytest.raises(DomainError, match="not-an-address is not a valid email address."):
        services.weekly_schedule_update(**args, recipients=[], external_recipients=["not-an-address"])
    outsider = user_factory(username="mallory")
    with pytest.raises(DomainError, match="mallory is not a member of Acme Trading."):
        services.weekly_schedule_update(**args, recipients=[outsider], external_recipients=[])
    schedule = services.weekly_schedule_update(**args, recipients=[admin_user], external_recipients=["CFO <cfo@x.cn>"])
    assert (schedule.weekday, schedule.language, schedule.external_recipients) == (4, "zh-hans", ["cfo@x.cn"])
