"""The embedded scheduler (no Redis): beat's schedule applied in-process."""

import datetime as dt

import time_machine

from config.scheduler import EmbeddedScheduler, scheduler_enabled
from receivables.models import WeeklyReport

from .conftest import make_schedule

ENTRY = {"weekly": {"task": "receivables.reporting.tasks.weekly_report_dispatch_task", "schedule": 300.0}}


def test_the_first_tick_runs_the_dispatcher_and_the_next_waits_for_the_interval(organization):
    make_schedule(organization, weekday=0, send_time=dt.time(8, 0), timezone="Asia/Shanghai")
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        scheduler = EmbeddedScheduler(ENTRY)
        wait = scheduler.tick()
        assert list(WeeklyReport.objects.values_list("organization_id", "week_start")) == [
            (organization.pk, dt.date(2026, 3, 2))]
        assert 1.0 <= wait <= 300.0
        WeeklyReport.objects.all().delete()
        scheduler.tick()  # not due again yet: nothing claimed
        assert not WeeklyReport.objects.exists()


def test_the_scheduler_is_off_when_tasks_go_to_a_broker(settings):
    settings.EMBEDDED_SCHEDULER = True  # the suite turns it off for live servers
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert scheduler_enabled() is False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert scheduler_enabled() is True
    settings.EMBEDDED_SCHEDULER = False
    assert scheduler_enabled() is False
