"""The factoring section of the weekly PDF and of the dashboard (registered in apps.py through
receivables.reporting.sections): each facility's position on the report's date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tenancy.models import Organization

from . import selectors


def factoring_section(organization: Organization, as_of: dt.date, language: str) -> dict[str, Any] | None:
    """Positions of the organization's facilities valid on `as_of`; None when there is none."""
    facilities = [f for f in selectors.facility_list(organization) if f.valid_from <= as_of]
    if not facilities:
        return None
    return {"as_of": as_of, "positions": [selectors.position(organization, f, as_of) for f in facilities]}
