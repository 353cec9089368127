"""Forecasting reads: the ledger as arrays for the payment model, stored models and predictions,
the settings. Every function takes the organization first; the provision and the cash forecast live
in their own modules (provisions.py, cashflow.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from dunning.models import Dispute, PromiseStatus, PromiseToPay
from receivables.models import Allocation, Invoice
from tenancy.models import Organization

from .models import ForecastSettings, InvoiceDisputeFlag, InvoicePrediction, PaymentModel
from .payment_model import Ledger


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def forecast_settings(organization: Organization) -> ForecastSettings:
    """The organization's settings, or the defaults (unsaved) when it has none."""
    found = ForecastSettings.objects.filter(organization=organization).first()
    return found or ForecastSettings(organization=organization)


def _ordinal(day: dt.date | str) -> int:
    return (dt.date.fromisoformat(day) if isinstance(day, str) else day).toordinal()


def ledger_load(organization: Organization) -> Ledger:
    """Every invoice not voided, with the day it was settled by payment (its last allocation, when
    paid; NaN otherwise), whether a dispute is on record, and the customers' promises to pay."""
    invoice, allocation = _table(Invoice), _table(Allocation)
    # Table names from the models; every value is a bound parameter.
    sql = f"""
        WITH settled AS (
            SELECT a.invoice_id, MAX(a.applied_on) AS day FROM {allocation} a
            JOIN {invoice} i ON i.id = a.invoice_id AND i.organization_id = a.organization_id
            WHERE a.organization_id = %(org)s AND i.status = 'paid'
            GROUP BY a.invoice_id
        ), disputed AS (
            SELECT invoice_id FROM {_table(InvoiceDisputeFlag)} WHERE organization_id = %(org)s AND disputed
            UNION SELECT invoice_id FROM {_table(Dispute)} WHERE organization_id = %(org)s
        )
        SELECT i.id, i.customer_id, i.issue_date, i.due_date, i.total_amount, s.day,
               d.invoice_id IS NOT NULL AS disputed, i.applied_amount < i.total_amount AS is_open
        FROM {invoice} i LEFT JOIN settled s ON s.invoice_id = i.id LEFT JOIN disputed d ON d.invoice_id = i.id
        WHERE i.organization_id = %(org)s AND i.voided_on IS NULL
    """  # noqa: S608
    if connection.vendor == "postgresql":
        ids, customers, issue, due, amount, settled, disputed, is_open = _ledger_columns_copy(sql, organization.pk)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, {"org": organization.pk})
            rows = cursor.fetchall()
        n = len(rows)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        customers = np.fromiter((r[1] for r in rows), dtype=np.int64, count=n)
        issue = np.fromiter((r[2].toordinal() for r in rows), dtype=np.int64, count=n)
        due = np.fromiter((r[3].toordinal() for r in rows), dtype=np.int64, count=n)
        amount = np.fromiter((float(r[4]) for r in rows), dtype=float, count=n)
        # MAX() of a date column comes back as text on SQLite (the embedded default): no declared type.
        settled = np.fromiter((_ordinal(r[5]) if r[5] else np.nan for r in rows), dtype=float, count=n)
        disputed = np.fromiter((bool(r[6]) for r in rows), dtype=bool, count=n)
        is_open = np.fromiter((bool(r[7]) for r in rows), dtype=bool, count=n)
    promises: dict[int, tuple[list, list]] = {}
    for customer_id, made_on, status, settled_on in PromiseToPay.objects.filter(organization=organization).values_list(
            "customer_id", "made_on", "status", "settled_on"):
        made, broken = promises.setdefault(customer_id, ([], []))
        made.append(made_on.toordinal())
        if status == PromiseStatus.BROKEN and settled_on:
            broken.append(settled_on.toordinal())
    return Ledger(ids, customers, issue, due, amount, settled, disputed, is_open,
                  {c: (np.array(m, dtype=np.int64), np.array(b, dtype=np.int64)) for c, (m, b) in promises.items()})


def _ledger_columns_copy(sql: str, organization_id: int) -> tuple[np.ndarray, ...]:
    """The ledger query's columns as arrays, on PostgreSQL: the rows come back by COPY as CSV, dates as
    ordinals and amounts as floats computed by the server, and pandas parses them in C. Building a
    Python date and Decimal for each cell of 1,000,000 rows took longer than the query itself."""
    import io

    import pandas as pd

    ordinal = "- DATE '0001-01-01' + 1"  # date(1, 1, 1).toordinal() == 1
    # Our own SQL; the only value is bound below.
    columns = (
        f"SELECT q.id, q.customer_id, q.issue_date {ordinal}, q.due_date {ordinal}, q.total_amount::float8, "  # noqa: S608
        f"q.day {ordinal}, q.disputed::int, q.is_open::int FROM ({sql}) q")
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        # COPY takes no bind parameters: psycopg2 quotes the organization's id into the text, as it does
        # for every execute() (client-side binding).
        statement = cursor.cursor.mogrify(f"COPY ({columns}) TO STDOUT WITH (FORMAT csv)", {"org": organization_id})
        cursor.cursor.copy_expert(statement, buffer)
    buffer.seek(0)
    frame = pd.read_csv(buffer, header=None, names=["id", "customer", "issue", "due", "amount", "settled", "disputed",
                                                      "open"],
                        dtype={"id": np.int64, "customer": np.int64, "issue": np.int64, "due": np.int64,
                               "amount": float, "settled": float, "disputed": np.int8, "open": np.int8})
    return (frame["id"].to_numpy(), frame["customer"].to_numpy(), frame["issue"].to_numpy(), frame["due"].to_numpy(),
            frame["amount"].to_numpy(), frame["settled"].to_numpy(), frame["disputed"].to_numpy().astype(bool),
            frame["open"].to_numpy().astype(bool))


def payment_model_current(organization: Organization) -> PaymentModel | None:
    return PaymentModel.objects.filter(organization=organization).order_by("-version").first()


def payment_model_list(organization: Organization) -> QuerySet[PaymentModel]:
    return PaymentModel.objects.filter(organization=organization).defer("artifact").order_by("-version")


def invoice_prediction(organization: Organization, invoice: Invoice) -> InvoicePrediction | None:
    return InvoicePrediction.objects.filter(organization=organization, invoice=invoice).first()


def date_of(day: float | int) -> dt.date:
    return dt.date.fromordinal(int(day))
