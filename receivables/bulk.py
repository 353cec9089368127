"""Bulk upsert for the API: up to API_BULK_MAX_ROWS rows keyed on external_id, all or nothing.

The per-row rules are the importer's (receivables.importing.importers): the same database-wide
checks before anything is written, the same upsert through the services, the same outcomes.
Only the parsing differs: rows arrive as JSON and are typed by the API's row serializers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import serializers

from receivables.importing.errors import import_field
from receivables.importing.fields import fields_for
from receivables.importing.importers import IMPORTERS
from receivables.importing.mapping import ColumnSpec, Mapping
from receivables.importing.parsing import ParsedRow
from tenancy.api.errors import BulkInvalid
from tenancy.api.fastrows import FastRows
from tenancy.errors import RowsInvalid
from tenancy.models import Organization, Role
from tenancy.services import Actor, role_require

from .serializers import CustomerBulkRowSerializer, InvoiceBulkRowSerializer, PaymentBulkRowSerializer

ROW_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "customers": CustomerBulkRowSerializer,
    "invoices": InvoiceBulkRowSerializer,
    "payments": PaymentBulkRowSerializer,
}


def _serializer_problems(errors: dict[str, Any]) -> list[dict[str, str]]:
    problems = []
    for field, details in errors.items():
        for detail in details if isinstance(details, list) else [details]:
            problems.append({"field": "" if field == "non_field_errors" else field,
                             "code": getattr(detail, "code", "invalid"), "message": str(detail)})
    return problems


def _rows_parse(kind: str, rows: list[Any]) -> tuple[list[ParsedRow], dict[int, list[dict[str, str]]]]:
    # One serializer for every row, as DRF's ListSerializer does with its child: building a
    # serializer's fields (a deep copy of the declared ones) costs more than validating a row.
    serializer = ROW_SERIALIZERS[kind]()
    fast = FastRows(serializer)
    parsed, problems = [], {}
    for index, raw in enumerate(rows):
        values = fast.parse(raw)
        if values is not None:
            parsed.append(ParsedRow(index, values))
            continue
        try:
            parsed.append(ParsedRow(index, dict(serializer.run_validation(raw))))
        except serializers.ValidationError as exc:
            problems[index] = _serializer_problems(exc.detail if isinstance(exc.detail, dict)
                                                   else {"non_field_errors": exc.detail})
    return parsed, problems


def _raise_if_problems(problems: dict[int, list[dict[str, str]]]) -> None:
    if problems:
        raise BulkInvalid([{"index": index, "errors": errors} for index, errors in sorted(problems.items())])


def _rows_check(rows: Any) -> list[Any]:
    limit = settings.API_BULK_MAX_ROWS
    if not isinstance(rows, list) or not rows:
        raise serializers.ValidationError({"rows": [_("Send {\"rows\": [...]} with at least one row.")]})
    if len(rows) > limit:
        raise serializers.ValidationError({"rows": [_("At most %(limit)s rows per request; this one has %(count)s.")
                                                    % {"limit": limit, "count": len(rows)}]})
    return rows


@transaction.atomic
def bulk_upsert(*, organization: Organization, actor: Actor, kind: str, rows: Any) -> dict[str, Any]:
    """Validate every row, then create or update all of them, or none (BulkInvalid lists why)."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    parsed, problems = _rows_parse(kind, _rows_check(rows))
    mapping = Mapping(kind=kind, columns={name: ColumnSpec(column=name) for name in fields_for(kind)})
    importer = IMPORTERS[kind](organization=organization, actor=actor, mapping=mapping)
    for error in importer.check(parsed):
        problems.setdefault(error.row, []).append({"field": error.column, "code": "invalid", "message": error.message})
    _raise_if_problems(problems)
    try:
        outcomes = importer.write_many(parsed)
    except RowsInvalid as exc:
        _raise_if_problems({number: [{"field": import_field(error), "code": str(error.code), "message": error.message}
                                     for error in errors] for number, errors in exc.rows.items()})
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    results = []
    for row in parsed:
        external_id = row.values["external_id"]
        outcome = outcomes[row.number]
        counts[outcome.value] += 1
        result = {"index": row.number, "external_id": external_id, "id": importer.existing[external_id].pk,
                  "outcome": outcome.value}
        if row.number in importer.warnings:
            result["warnings"] = [importer.warnings[row.number]]
        results.append(result)
    return {**counts, "rows": results}
