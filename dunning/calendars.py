"""Business days from maintained holiday calendars (python-holidays): each country's weekend, its
public holidays and, for mainland China, the make-up working days (调休) that turn a weekend day
into a working day. A policy names its calendars; a day is a business day when it is a working day
in every one of them. No calendar named: Monday to Friday. The code CUSTOMER adds each customer's
own country calendar (Customer.country) for that customer's reminders."""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from django.utils.translation import gettext as _

from tenancy.errors import DomainError

WEEKEND = {5, 6}
CUSTOMER = "CUSTOMER"  # stands for the customer's country


@functools.cache
def supported() -> frozenset[str]:
    """The ISO 3166 codes python-holidays has a calendar for."""
    return frozenset(holidays.list_supported_countries())


def calendars_clean(raw: str | list | tuple | None) -> str:
    """'cn, hk' -> 'CN,HK'; an unknown code is an error naming it."""
    codes = raw if isinstance(raw, list | tuple) else (raw or "").replace(";", ",").split(",")
    cleaned = []
    for code in (str(c).strip().upper() for c in codes):
        if not code:
            continue
        if code != CUSTOMER and code not in supported():
            raise DomainError(_("No holiday calendar for %(code)s; use an ISO 3166 country code such as CN.")
                              % {"code": code}, field="holiday_calendars")
        if code not in cleaned:
            cleaned.append(code)
    return ",".join(cleaned)


@functools.lru_cache(maxsize=256)
def _calendar(code: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(code, years=year)


def is_business_day(day: dt.date, codes: str = "", customer_country: str = "") -> bool:
    """A working day in every named calendar (make-up working days included); CUSTOMER stands for
    `customer_country` when given (a country without a calendar adds nothing)."""
    listed = [c for c in codes.split(",") if c]
    names = [c for c in listed if c != CUSTOMER]
    if CUSTOMER in listed and customer_country.upper() in supported():
        names.append(customer_country.upper())
    if not names:
        return day.weekday() not in WEEKEND
    return all(_calendar(code, day.year).is_working_day(day) for code in names)


def next_business_day(day: dt.date, codes: str = "") -> dt.date:
    """The first business day after `day`."""
    day += dt.timedelta(days=1)
    for _i in range(60):  # no calendar stops work for two months
        if is_business_day(day, codes):
            return day
        day += dt.timedelta(days=1)
    return day


def holiday_name(day: dt.date, codes: str = "") -> str:
    """Why `day` is not a business day ('' when it is one, or only a weekend)."""
    for code in (c for c in codes.split(",") if c and c != CUSTOMER):
        name = _calendar(code, day.year).get(day)
        if name:
            return f"{code}: {name}"
    return ""
