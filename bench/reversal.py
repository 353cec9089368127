"""What a payment reversal costs, against recording the same payment (the floor, same run).

    python -m bench.reversal [--payments 200] [--invoices-per-payment 3]

Each payment settles `--invoices-per-payment` invoices; reversing it writes one negative allocation
per invoice, reopens them, audits and announces each. Printed: median milliseconds per payment
recorded (auto-allocated) and per payment reversed, their ratio, and the queries of one reversal."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from decimal import Decimal


def main() -> None:
    parser = argparse.ArgumentParser(description="Time payment_reverse against payment_record.")
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--invoices-per-payment", type=int, default=3)
    args = parser.parse_args()
    from bench.db import bench_setup

    bench_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from receivables import services
    from receivables.models import Customer
    from tenancy.models import Organization

    stamp = int(time.time())
    organization = Organization.objects.create(name=f"Reversal bench {stamp}", slug=f"bench-reversal-{stamp}",
                                               base_currency="CNY", timezone="Asia/Shanghai")
    customer = Customer.objects.create(organization=organization, name="Bench customer", currency="CNY")
    day = dt.date(2026, 1, 5)
    recorded, reversed_, payments = [], [], []
    for n in range(args.payments):
        for k in range(args.invoices_per_payment):
            services.invoice_create(organization=organization, actor=None, customer=customer,
                                    number=f"B-{n}-{k}", issue_date=day, net_amount=Decimal("100.00"))
        start = time.perf_counter()
        payments.append(services.payment_record(organization=organization, actor=None, customer=customer,
                                                received_on=day, amount=Decimal(100 * args.invoices_per_payment)))
        recorded.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as one:
        services.payment_reverse(organization=organization, actor=None, payment=payments[0],
                                 reversed_on=day + dt.timedelta(days=10), reason="bench")
    for payment in payments[1:]:
        start = time.perf_counter()
        services.payment_reverse(organization=organization, actor=None, payment=payment,
                                 reversed_on=day + dt.timedelta(days=10), reason="bench")
        reversed_.append(time.perf_counter() - start)
    record_ms, reverse_ms = statistics.median(recorded) * 1000, statistics.median(reversed_) * 1000
    print(f"payments: {args.payments}, invoices per payment: {args.invoices_per_payment}")
    print(f"payment_record (floor): {record_ms:.1f} ms   payment_reverse: {reverse_ms:.1f} ms   "
          f"ratio {reverse_ms / record_ms:.2f}   queries per reversal: {len(one.captured_queries)}")


if __name__ == "__main__":
    main()
