"""Customer statement vs. the bare open-item list of the same customer, at each size.

    python -m bench.statement --sizes 10000,1000000 [--customers 1000] [--repeat 9] [--explain]

Measured on the customer with the most invoices (the worst case). The floor lists that
customer's open invoices oldest due first; `customer_statement` also reconstructs the
as-of balances and reads unapplied cash and credits.
"""

from __future__ import annotations

from bench.common import (
    Measurement,
    bench_arguments,
    dataset_ensure,
    explain,
    paired_medians,
    queries_issued,
    sql_floor,
    table_print,
    table_record,
)

STATEMENT_FLOOR_SQL = """
    SELECT id, number, due_date, total_amount - applied_amount FROM receivables_invoice
    WHERE organization_id = %(org)s AND customer_id = %(customer)s AND voided_on IS NULL
      AND applied_amount < total_amount
    ORDER BY due_date, issue_date, id
"""


def statement_measure(organization, *, repeat: int, show_plan: bool = False) -> Measurement:
    """Time customer_statement for the largest customer and its floor; count its queries."""
    from django.db.models import Count

    from receivables.models import Customer, Invoice
    from receivables.selectors import customer_statement
    from tenancy.dates import local_today

    as_of = local_today(organization.timezone)
    customer = (Customer.objects.filter(organization=organization).annotate(n=Count("invoices"))
                .order_by("-n", "pk").first())
    report = lambda: customer_statement(organization, customer, as_of)  # noqa: E731
    queries = queries_issued(report)
    if show_plan:
        print(f"\n--- EXPLAIN ANALYZE, statement SQL, {organization.slug} ---\n{explain(queries[0])}")
    lines = sum(len(lines) for lines in report().lines_by_currency.values())
    floor = sql_floor(STATEMENT_FLOOR_SQL, {"org": organization.pk, "customer": customer.pk})
    report_s, floor_s = paired_medians(report, floor, repeat)
    return Measurement(size=Invoice.objects.filter(organization=organization).count(),
                       detail=f"{customer.n:,} invoices, {lines:,} open", report_s=report_s, floor_s=floor_s,
                       queries=len(queries))


def main() -> None:
    args = bench_arguments("Time a customer statement against the bare open-item list of that customer.")
    from bench.db import bench_setup

    bench_setup()
    rows = [statement_measure(dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate),
                              repeat=args.repeat, show_plan=args.explain) for size in args.sizes]
    table_print(f"customer_statement vs floor (medians of {args.repeat} alternating runs after a warm-up)", rows)
    table_record("statement", rows, max_ratio=3)


if __name__ == "__main__":
    main()
