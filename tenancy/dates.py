"""Calendar dates in an organization's time zone."""

import datetime as dt
import zoneinfo

from django.utils import timezone


def local_today(tz_name: str) -> dt.date:
    """Today's date in the given IANA time zone."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def month_end(day: dt.date) -> dt.date:
    first_of_next = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_of_next - dt.timedelta(days=1)


def month_ends(until: dt.date, months: int) -> list[dt.date]:
    """The last `months` month-ends up to and including `until`'s month, oldest first
    (the last element is `until` itself, so a trend ends on the as-of date)."""
    ends = [until]
    cursor = until.replace(day=1)
    for _ in range(months - 1):
        cursor = cursor - dt.timedelta(days=1)
        ends.append(cursor)
        cursor = cursor.replace(day=1)
    return list(reversed(ends))
