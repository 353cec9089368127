"""What higher apps show on the customer page, the hub of one customer's relationship.

receivables sits below credit and dunning, so it cannot import them. Each registers what it has
to say in its AppConfig.ready():

    customer_panel_register(CustomerPanel(key="credit", order=10, build=credit_panel,
                                          template="credit/_customer_panel.html"))
    customer_link_register(CustomerLink(key="credit", order=10, label=_("Credit file"),
                                        url_name="credit:customer"))
    customer_hold_source_register(customer_holds_of_credit)

A panel's `build(organization, customer, today)` reads what the panel shows, in a fixed number of
queries however long the customer's history, and returns its template context (None: nothing to
show). A hold source answers for many customers at once which of them may not be invoiced now (or
only with a warning), so the customer page and the invoice form say so beside "New invoice".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse

from tenancy.models import Organization
from tenancy.money import ZERO

from .models import Customer
from .selectors import Statement

PanelBuild = Callable[[Organization, Customer, dt.date], "dict[str, Any] | None"]


@dataclass(frozen=True)
class CustomerPanel:
    key: str
    order: int
    build: PanelBuild
    template: str
    wide: bool = False  # the page's full width; otherwise a column of the two-column grid


@dataclass(frozen=True)
class BuiltPanel:
    key: str
    template: str
    context: dict[str, Any]
    wide: bool


@dataclass(frozen=True)
class CustomerLink:
    """A page of a higher app about the customer (a tab of the hub)."""

    key: str
    order: int
    label: Any  # a lazy translation
    url_name: str  # reversed with the customer's pk as its only argument
    capability: str = ""  # "collect", "manage_credit" or "admin" (tenancy's `can`); "" for every member
    download: bool = False


@dataclass(frozen=True)
class CustomerHold:
    """Why a customer may not be invoiced now: `refuses` when new invoices are refused, else warned."""

    label: str  # short, for a badge: "Blacklisted", "On credit hold"
    reasons: tuple[str, ...] = field(default_factory=tuple)
    refuses: bool = True
    url: str = ""


HoldSource = Callable[[Organization, list[int], dt.date], "dict[int, list[CustomerHold]]"]

_panels: dict[str, CustomerPanel] = {}
_links: dict[str, CustomerLink] = {}
_hold_sources: list[HoldSource] = []


def customer_panel_register(panel: CustomerPanel) -> None:
    """Add (or replace, by key) a panel of the customer page; called from AppConfig.ready()."""
    _panels[panel.key] = panel


def customer_link_register(link: CustomerLink) -> None:
    _links[link.key] = link


def customer_hold_source_register(source: HoldSource) -> None:
    if source not in _hold_sources:
        _hold_sources.append(source)


def customer_panels_build(organization: Organization, customer: Customer, today: dt.date) -> list[BuiltPanel]:
    """The registered panels with something to show, in order."""
    built = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.build(organization, customer, today)
        if context is not None:
            built.append(BuiltPanel(key=panel.key, template=panel.template, context=context, wide=panel.wide))
    return built


def customer_links(customer: Customer, can: Any = None) -> list[tuple[CustomerLink, str]]:
    """(link, url) of the registered pages the member may use (`can`: tenancy's Capabilities)."""
    links = []
    for link in sorted(_links.values(), key=lambda item: (item.order, item.key)):
        if link.capability and not getattr(can, link.capability, False):
            continue
        links.append((link, reverse(link.url_name, args=[customer.pk])))
    return links


def customer_holds(organization: Organization, customer_ids: Iterable[int],
                   today: dt.date) -> dict[int, list[CustomerHold]]:
    """Customer id -> its holds, from every registered source (one call per source); absent = none."""
    ids = list(customer_ids)
    holds: dict[int, list[CustomerHold]] = {}
    for source in _hold_sources if ids else ():
        for customer_id, found in source(organization, ids, today).items():
            if found:
                holds.setdefault(customer_id, []).extend(found)
    return holds


@dataclass(frozen=True)
class StatementFigures:
    currency: str
    balance: Decimal
    overdue: Decimal
    oldest_days: int  # the oldest open invoice's days past due (0: nothing overdue)


def statement_figures(statement: Statement) -> list[StatementFigures]:
    """The hub's headline figures per currency from a statement already read: open balance, the
    overdue part of it and the oldest days overdue (no query)."""
    figures = []
    for currency, lines in statement.lines_by_currency.items():
        overdue = [line for line in lines if line.days_overdue > 0]
        figures.append(StatementFigures(currency=currency, balance=statement.balance(currency),
                                        overdue=sum((line.balance for line in overdue), ZERO),
                                        oldest_days=max((line.days_overdue for line in overdue), default=0)))
    return figures
