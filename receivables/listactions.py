"""Bulk actions on the ledger's list pages that higher apps provide (dunning: assign a collector
to the selected customers, send them reminders). receivables sits below those apps, so each
registers its action in its AppConfig.ready(); the list page renders the registered actions the
member's role allows, as buttons of the page's selection form that post the selected row ids
(`ids`) to the action's own URL. The action's view checks the role and the organization again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from tenancy.models import Organization, Role
from tenancy.views import role_at_least

LISTINGS = ("invoices", "customers")


@dataclass(frozen=True)
class BulkAction:
    key: str
    listing: str  # one of LISTINGS: whose rows' ids it receives
    label: Any  # a lazy translation
    url_name: str
    role: Role
    order: int = 50
    template: str | None = None  # extra inputs (e.g. the collector to assign), inside the selection form
    context: Callable[[Organization], dict[str, Any]] | None = None


@dataclass(frozen=True)
class BuiltAction:
    key: str
    label: Any
    url: str
    template: str | None
    context: dict[str, Any] = field(default_factory=dict)


_registry: dict[tuple[str, str], BulkAction] = {}


def bulk_action_register(action: BulkAction) -> None:
    """Add (or replace, by listing and key) an action; called from AppConfig.ready()."""
    if action.listing not in LISTINGS:
        raise ValueError(f"Unknown listing {action.listing!r}: one of {LISTINGS}")
    _registry[(action.listing, action.key)] = action


def bulk_actions(request: HttpRequest, listing: str) -> list[BuiltAction]:
    """The actions of a list page the member's role allows, in order."""
    actions = sorted((a for a in _registry.values() if a.listing == listing), key=lambda a: (a.order, a.key))
    return [BuiltAction(a.key, a.label, reverse(a.url_name), a.template,
                        a.context(request.organization) if a.context else {})
            for a in actions if role_at_least(request, a.role)]
