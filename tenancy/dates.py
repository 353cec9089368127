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


# Business dates the app accepts (issue, due, as-of, promise, payment dates...). Python's calendar
# ends at 9999-12-31 and starts at 0001-01-01: an invoice issued 9999-12-31 has no due date, an
# aging as of 0001-01-01 has no "90 days before". Every date input is held to this range
# (tenancy/bounds.py); arithmetic inside it never leaves Python's range.
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)


def date_supported(day: dt.date) -> bool:
    return DATE_MIN <= day <= DATE_MAX


def date_range_message() -> str:
    from django.utils.translation import gettext as _

    return _("Enter a date between %(min)s and %(max)s.") % {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}
