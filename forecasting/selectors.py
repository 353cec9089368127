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
from tenancy.db import query_columns
from tenancy.models import Organization

from .models import ForecastSettings, InvoiceDisputeFlag, InvoicePrediction, PaymentModel
from .payment_model import Ledger


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def forecast_settings(organization: Organization) -> ForecastSettings:
    """The organization's settings, or the defaults (unsaved) when it has none."""
    found = ForecastSettings.objects.filter(organization=organization).first()
    return found or ForecastSettings(organization=organization)


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
    columns = query_columns(sql, {"org": organization.pk}, {
        "id": "int", "customer_id": "int", "issue_date": "day", "due_date": "day", "total_amount": "float",
        "day": "day", "disputed": "bool", "is_open": "bool"})
    ids, customers = columns["id"], columns["customer_id"]
    issue, due = columns["issue_date"].astype(np.int64), columns["due_date"].astype(np.int64)
    amount, settled, disputed, is_open = columns["total_amount"], columns["day"], columns["disputed"], columns["is_open"]
    promises: dict[int, tuple[list, list]] = {}
    for customer_id, made_on, status, settled_on in PromiseToPay.objects.filter(organization=organization).values_list(
            "customer_id", "made_on", "status", "settled_on"):
        made, broken = promises.setdefault(customer_id, ([], []))
        made.append(made_on.toordinal())
        if status == PromiseStatus.BROKEN and settled_on:
            broken.append(settled_on.toordinal())
    return Ledger(ids, customers, issue, due, amount, settled, disputed, is_open,
                  {c: (np.array(m, dtype=np.int64), np.array(b, dtype=np.int64)) for c, (m, b) in promises.items()})


def payment_model_current(organization: Organization) -> PaymentModel | None:
    return PaymentModel.objects.filter(organization=organization).order_by("-version").first()


def payment_model_list(organization: Organization) -> QuerySet[PaymentModel]:
    return PaymentModel.objects.filter(organization=organization).defer("artifact").order_by("-version")


def invoice_prediction(organization: Organization, invoice: Invoice) -> InvoicePrediction | None:
    return InvoicePrediction.objects.filter(organization=organization, invoice=invoice).first()


def date_of(day: float | int) -> dt.date:
    return dt.date.fromordinal(int(day))
