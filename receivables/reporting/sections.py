"""Sections that higher apps add to the weekly PDF and the dashboard.

receivables sits below credit, factoring, insurance and forecasting, so it cannot import them.
Each of those apps registers what it has to say in its AppConfig.ready():

    section_register(ReportSection(key="factoring", order=50, build=factoring_section,
                                   template="factoring/weekly_section.html",
                                   dashboard_template="factoring/dashboard_section.html"))

`build(organization, as_of, language)` reads what the section shows and returns its template context,
or None when there is nothing to say (no facility, no policy...). It runs before rendering, as the
report's other data does; its templates translate their own labels in the report's language.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tenancy.models import Organization

logger = logging.getLogger(__name__)

SectionBuild = Callable[[Organization, dt.date, str], dict[str, Any] | None]


@dataclass(frozen=True)
class ReportSection:
    key: str
    order: int
    build: SectionBuild
    template: str | None = None  # an HTML fragment inside the weekly PDF; None: not in the PDF
    dashboard_template: str | None = None  # an HTML fragment on the dashboard; None: not there


@dataclass(frozen=True)
class BuiltSection:
    key: str
    template: str
    context: dict[str, Any]


_registry: dict[str, ReportSection] = {}


def section_register(section: ReportSection) -> None:
    """Add (or replace, by key) a section; called from AppConfig.ready()."""
    _registry[section.key] = section


def sections_registered() -> list[ReportSection]:
    return sorted(_registry.values(), key=lambda section: (section.order, section.key))


def sections_build(organization: Organization, as_of: dt.date, language: str, *, where: str = "pdf") -> list[BuiltSection]:
    """The registered sections with something to say, in order; `where` is "pdf" or "dashboard"."""
    built = []
    for section in sections_registered():
        template = section.template if where == "pdf" else section.dashboard_template
        if template is None:
            continue
        context = section.build(organization, as_of, language)
        if context is not None:
            built.append(BuiltSection(section.key, template, context))
    return built
