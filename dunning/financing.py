"""What dunning asks about financed invoices. dunning sits below factoring, so factoring answers
by registering a source in its AppConfig.ready(); with none registered nothing is financed.

- `dunning_stopped(organization, invoice_ids)`: the invoices the seller must not dun (assigned
  to a factor that collects them: disclosed factoring without delegated collection);
- `pay_to(organization, invoice_ids)`: for invoices the customer must pay to someone else (a
  disclosed factor), invoice id -> {"factor", "bank", "account"}: printed on reminders, the
  portal and statements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from tenancy.models import Organization


class FinancingSource(Protocol):
    def dunning_stopped(self, organization: Organization, invoice_ids: Iterable[int]) -> set[int]: ...

    def pay_to(self, organization: Organization, invoice_ids: Iterable[int]) -> dict[int, dict[str, Any]]: ...


_sources: list[FinancingSource] = []


def financing_source_register(source: FinancingSource) -> None:
    if source not in _sources:
        _sources.append(source)


def dunning_stopped(organization: Organization, invoice_ids: Iterable[int]) -> set[int]:
    ids = list(invoice_ids)
    stopped: set[int] = set()
    for source in _sources if ids else ():
        stopped |= source.dunning_stopped(organization, ids)
    return stopped


def pay_to(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(invoice_ids)
    payees: dict[int, dict[str, Any]] = {}
    for source in _sources if ids else ():
        payees.update(source.pay_to(organization, ids))
    return payees


def pay_to_groups(payees: dict[int, dict[str, Any]], invoices: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    """(invoice id, number) pairs -> one entry per payee of `payees` (pay_to's answer, asked once
    for a whole run): {"factor", "bank", "account", "numbers"}."""
    groups: dict[tuple, dict[str, Any]] = {}
    for pk, number in invoices:
        payee = payees.get(pk)
        if payee is not None:
            key = (payee["factor"], payee["bank"], payee["account"])
            groups.setdefault(key, {**payee, "numbers": []})["numbers"].append(number)
    return list(groups.values())
