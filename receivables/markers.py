"""Facts that higher apps attach to invoices on the ledger's pages (factoring: "assigned to
factor X"). receivables sits below them, so each registers a source in its AppConfig.ready();
a marker is a separate fact shown beside the invoice, never a status the ledger could overwrite."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tenancy.models import Organization


@dataclass(frozen=True)
class InvoiceMarker:
    label: str
    url: str = ""


MarkerSource = Callable[[Organization, list[int]], dict[int, list[InvoiceMarker]]]
_sources: list[MarkerSource] = []


def invoice_marker_source_register(source: MarkerSource) -> None:
    if source not in _sources:
        _sources.append(source)


def invoice_markers(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, list[InvoiceMarker]]:
    """Invoice id -> its markers, from every registered source (one call per source)."""
    ids = list(invoice_ids)
    markers: dict[int, list[InvoiceMarker]] = defaultdict(list)
    for source in _sources if ids else ():
        for invoice_id, found in source(organization, ids).items():
            markers[invoice_id].extend(found)
    return dict(markers)
