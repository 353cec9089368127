"""A synthetic receivables ledger of any size, loaded with PostgreSQL COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench \\
        python -m bench.generate --customers 1000 --invoices 100000 [--org-slug bench] [--replace]

The organization is synthetic: its rows are written straight into the tables (no services,
no audit entries), so it can be dropped and regenerated. Every row still satisfies the
ledger's CHECK constraints and composite foreign keys: PostgreSQL checks the deferred
foreign keys before the load commits, and `ledger_check` re-derives every invoice's
applied amount and every payment's unapplied amount from the allocations.

Shape (deterministic for a seed and an as-of date): two years of invoices, customers
80% CNY / 12% USD / 8% EUR with terms of 30-90 days, invoice counts skewed (a few large
customers), 13% VAT on CNY invoices and zero-rated exports; good payers (60%) pay around
the due date, slow payers (28%) 30-60 days late, bad payers (12%) 60-240 days late, often
partly or never; a customer's invoices settled on the same day share one payment, 1% of
payments carry unapplied cash on account, 0.4% of unpaid invoices are void.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

BASE_CURRENCY = "CNY"
CURRENCIES = ("CNY", "USD", "EUR")
CURRENCY_SHARE = (0.80, 0.12, 0.08)
# Typical net invoice size in minor units per currency (CNY 20k, about the same in USD/EUR).
MEDIAN_NET_CENTS = (2_000_000, 280_000, 255_000)
FX_START = {"USD": Decimal("7.2000"), "EUR": Decimal("7.8500")}
TERMS = (30, 45, 60, 90)
TERMS_SHARE = (0.50, 0.25, 0.15, 0.10)
GOOD, SLOW, BAD = 0, 1, 2
BEHAVIOUR_SHARE = (0.60, 0.28, 0.12)
HISTORY_DAYS = 730
VAT_PERCENT = 13
METHODS = ("bank_transfer", "bank_transfer", "bank_transfer", "bank_acceptance", "check", "card")
COPY_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class GenerateResult:
    organization_id: int
    as_of: dt.date
    customers: int
    invoices: int
    payments: int
    allocations: int
    seconds: float


# --- pure generation (numpy arrays, no database) -------------------------------------------

@dataclass
class Ledger:
    """Column arrays of the generated ledger; ordinals are `date.toordinal()` values."""

    customer_currency: np.ndarray
    customer_terms: np.ndarray
    invoice_customer: np.ndarray
    issue: np.ndarray
    due: np.ndarray
    net: np.ndarray  # minor units (int64) throughout: no float ever reaches a stored amount
    tax: np.ndarray
    applied: np.ndarray
    voided: np.ndarray  # ordinal, 0 = not void
    paid_on: np.ndarray  # ordinal of the payment, 0 = none
    payment_of_invoice: np.ndarray  # index into the payment arrays, -1 = none
    payment_customer: np.ndarray
    payment_date: np.ndarray
    payment_amount: np.ndarray
    payment_unapplied: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.net + self.tax


def ledger_draw(*, customers: int, invoices: int, as_of: dt.date, seed: int) -> Ledger:
    """Draw a consistent ledger: invoices, their settlement, and the payments that settled them."""
    rng = np.random.default_rng(seed)
    today = as_of.toordinal()
    currency = rng.choice(len(CURRENCIES), size=customers, p=CURRENCY_SHARE)
    terms = np.asarray(TERMS)[rng.choice(len(TERMS), size=customers, p=TERMS_SHARE)]
    behaviour = rng.choice(3, size=customers, p=BEHAVIOUR_SHARE)
    # Pareto weights: a few customers get many invoices, most get a handful.
    weight = rng.pareto(1.2, size=customers) + 1
    invoice_customer = rng.choice(customers, size=invoices, p=weight / weight.sum())

    issue = np.sort(today - rng.integers(0, HISTORY_DAYS, size=invoices))  # numbers follow issue dates
    inv_currency = currency[invoice_customer]
    due = issue + terms[invoice_customer]
    median = np.asarray(MEDIAN_NET_CENTS)[inv_currency]
    net = np.maximum((median * rng.lognormal(0.0, 1.0, size=invoices)).astype(np.int64), 1_000)
    tax = np.where(inv_currency == 0, (net * VAT_PERCENT + 50) // 100, 0).astype(np.int64)  # half up
    total = net + tax

    kind = behaviour[invoice_customer]
    delay = np.select(
        [kind == GOOD, kind == SLOW],
        [rng.integers(-10, 6, size=invoices), rng.integers(30, 61, size=invoices)],
        rng.integers(60, 241, size=invoices),
    )
    paid_on = np.maximum(due + delay, issue)
    luck = rng.random(invoices)
    share_pct = np.where(kind == BAD, np.select([luck < 0.45, luck < 0.80], [100, rng.integers(30, 81, size=invoices)], 0),
                         100)
    paid = (paid_on <= today) & (share_pct > 0)
    applied = np.where(share_pct == 100, total, np.clip(total * share_pct // 100, 1, total - 1))
    applied = np.where(paid, applied, 0).astype(np.int64)
    paid_on = np.where(paid, paid_on, 0)

    void = (rng.random(invoices) < 0.004) & ~paid
    voided = np.where(void, np.minimum(issue + rng.integers(0, 20, size=invoices), today), 0)

    # One payment per (customer, day): a customer's invoices settled the same day share it.
    paid_idx = np.flatnonzero(paid)
    key = invoice_customer[paid_idx].astype(np.int64) * 10_000_000 + paid_on[paid_idx]
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    payment_amount = np.zeros(len(keys), dtype=np.int64)
    np.add.at(payment_amount, inverse, applied[paid_idx])
    on_account = rng.random(len(keys)) < 0.01
    payment_unapplied = np.where(on_account, rng.integers(100, 5_000_000, size=len(keys)), 0).astype(np.int64)
    payment_of_invoice = np.full(invoices, -1, dtype=np.int64)
    payment_of_invoice[paid_idx] = inverse

    return Ledger(
        customer_currency=currency, customer_terms=terms, invoice_customer=invoice_customer, issue=issue, due=due,
        net=net, tax=tax, applied=applied, voided=voided, paid_on=paid_on, payment_of_invoice=payment_of_invoice,
        payment_customer=invoice_customer[paid_idx][first], payment_date=paid_on[paid_idx][first],
        payment_amount=payment_amount + payment_unapplied, payment_unapplied=payment_unapplied,
    )


def fx_rates_draw(*, since: dt.date, until: dt.date, seed: int) -> list[tuple[str, dt.date, Decimal]]:
    """Monthly rates to CNY from the first of `since`'s month: a small random walk."""
    rng = np.random.default_rng(seed + 1)
    months = []
    cursor = since.replace(day=1)
    while cursor <= until:
        months.append(cursor)
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    rates = []
    for currency, start in FX_START.items():
        rate = start
        for month in months:
            rates.append((currency, month, rate))
            rate = (rate * (1 + Decimal(int(rng.integers(-150, 151))) / 10_000)).quantize(Decimal("0.0001"))
    return rates


# --- loading -------------------------------------------------------------------------------

def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _copy(cursor, table: str, columns: Iterable[str], lines: Iterator[str]) -> int:
    """Stream tab-separated lines into `table` with COPY, in chunks; return the row count."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    count = 0
    while True:
        buffer = io.StringIO()
        chunk = 0
        for line in lines:
            buffer.write(line)
            chunk += 1
            if chunk == COPY_CHUNK_ROWS:
                break
        if chunk:
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
            count += chunk
        if chunk < COPY_CHUNK_ROWS:
            return count


def _reserve_ids(cursor, table: str, count: int) -> int:
    """Take `count` ids from the table's identity sequence; return the first."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    if count > 1:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def ledger_load(cursor, *, organization_id: int, ledger: Ledger, now: str) -> tuple[int, int, int]:
    """COPY customers, invoices, payments and allocations; return their counts (c, i, p)."""
    return ledgers_load(cursor, ledgers=[(organization_id, ledger)], now=now)


def ledgers_load(cursor, *, ledgers: Sequence[tuple[int, Ledger]], now: str) -> tuple[int, int, int]:
    """COPY the ledgers of several organizations, one COPY stream per table for all of them (ids
    reserved once per table); return the total counts (customers, invoices, payments)."""
    n_customers = sum(len(ledger.customer_currency) for _org, ledger in ledgers)
    n_invoices = sum(len(ledger.issue) for _org, ledger in ledgers)
    n_payments = sum(len(ledger.payment_amount) for _org, ledger in ledgers)
    n_allocations = sum(int((ledger.payment_of_invoice >= 0).sum()) for _org, ledger in ledgers)
    customer0 = _reserve_ids(cursor, "receivables_customer", n_customers)
    invoice0 = _reserve_ids(cursor, "receivables_invoice", n_invoices)
    payment0 = _reserve_ids(cursor, "receivables_payment", n_payments)
    allocation0 = _reserve_ids(cursor, "receivables_allocation", n_allocations)

    first_day = min(int(min(ledger.issue.min(initial=dt.date.max.toordinal()), ledger.payment_date.min(initial=10**7)))
                    for _org, ledger in ledgers)
    last_day = max(int(max(ledger.due.max(initial=0), ledger.payment_date.max(initial=0)) + 1)
                   for _org, ledger in ledgers)
    day = {o: dt.date.fromordinal(o).isoformat() for o in range(min(first_day, last_day), last_day + 1)}
    day[0] = "\\N"
    # Each organization's first id in each table: the ids of one table are consecutive across the ledgers.
    offsets = []
    c, i, p, a = customer0, invoice0, payment0, allocation0
    for organization_id, ledger in ledgers:
        offsets.append((organization_id, ledger, c, i, p, a))
        c, i, p = c + len(ledger.customer_currency), i + len(ledger.issue), p + len(ledger.payment_amount)
        a += int((ledger.payment_of_invoice >= 0).sum())

    def customer_lines() -> Iterator[str]:
        for organization_id, ledger, customer0, _i, _p, _a in offsets:
            for i, (cur, terms) in enumerate(zip(ledger.customer_currency.tolist(), ledger.customer_terms.tolist(),
                                                 strict=True)):
                currency = CURRENCIES[cur]
                name, country, language = (
                    (f"华东客户 {i + 1:05d} 有限公司", "CN", "zh-hans") if currency == "CNY"
                    else (f"Customer {i + 1:05d} Ltd", "US" if currency == "USD" else "DE", "en")
                )
                yield (f"{customer0 + i}\t{organization_id}\t{name}\t\t\t{country}\t{currency}\t{terms}\t{language}\t"
                       f'["ap-{i + 1:05d}@bench.example"]\tstandard\tactive\t\\N\t{now}\t{now}\n')

    def invoice_lines() -> Iterator[str]:
        for organization_id, ledger, customer0, invoice0, _p, _a in offsets:
            columns = zip(ledger.invoice_customer.tolist(), ledger.issue.tolist(), ledger.due.tolist(),
                          ledger.net.tolist(), ledger.tax.tolist(), ledger.applied.tolist(), ledger.voided.tolist(),
                          strict=True)
            currency_of = [CURRENCIES[c] for c in ledger.customer_currency.tolist()]
            for i, (cust, issue, due, net, tax, applied, voided) in enumerate(columns):
                total = net + tax
                status = ("void" if voided else "open" if applied == 0 else "paid" if applied == total
                          else "partially_paid")
                yield (f"{invoice0 + i}\t{organization_id}\t{customer0 + cust}\tINV{i + 1:08d}\t\\N\t{day[issue]}\t"
                       f"{day[due]}\t{currency_of[cust]}\t{_amount(net)}\t{_amount(tax)}\t{_amount(total)}\t"
                       f"{_amount(applied)}\t0\t{status}\t{day[voided]}\t\t\t{now}\t{now}\tstandard\n")

    def payment_lines() -> Iterator[str]:
        for organization_id, ledger, customer0, _i, payment0, _a in offsets:
            columns = zip(ledger.payment_customer.tolist(), ledger.payment_date.tolist(), ledger.payment_amount.tolist(),
                          ledger.payment_unapplied.tolist(), strict=True)
            currency_of = [CURRENCIES[c] for c in ledger.customer_currency.tolist()]
            for i, (cust, received, amount, unapplied) in enumerate(columns):
                yield (f"{payment0 + i}\t{organization_id}\t{customer0 + cust}\t{day[received]}\t{_amount(amount)}\t"
                       f"{_amount(unapplied)}\t{currency_of[cust]}\t{METHODS[i % len(METHODS)]}\tTT{payment0 + i}\t\\N\t"
                       f"{now}\t{now}\n")

    def allocation_lines() -> Iterator[str]:
        for organization_id, ledger, _c, invoice0, payment0, allocation0 in offsets:
            currency_of = [CURRENCIES[c] for c in ledger.customer_currency.tolist()]
            paid_idx = np.flatnonzero(ledger.payment_of_invoice >= 0)
            columns = zip(paid_idx.tolist(), ledger.payment_of_invoice[paid_idx].tolist(),
                          ledger.applied[paid_idx].tolist(), ledger.paid_on[paid_idx].tolist(),
                          ledger.invoice_customer[paid_idx].tolist(), strict=True)
            for n, (inv, pay, amount, on, cust) in enumerate(columns):
                yield (f"{allocation0 + n}\t{organization_id}\t{invoice0 + inv}\tpayment\t{payment0 + pay}\t\\N\t\\N\t"
                       f"{_amount(amount)}\t{currency_of[cust]}\t{day[on]}\t{now}\n")

    _copy(cursor, "receivables_customer", (
        "id", "organization_id", "name", "legal_name", "registration_number", "country", "currency",
        "payment_terms_days", "language", "contact_emails", "segment", "status", "external_id", "created_at",
        "updated_at"), customer_lines())
    _copy(cursor, "receivables_invoice", (
        "id", "organization_id", "customer_id", "number", "external_id", "issue_date", "due_date", "currency",
        "net_amount", "tax_amount", "total_amount", "applied_amount", "written_off_amount", "status", "voided_on",
        "description", "po_reference", "created_at", "updated_at", "kind"), invoice_lines())
    _copy(cursor, "receivables_payment", (
        "id", "organization_id", "customer_id", "received_on", "amount", "unapplied_amount", "currency", "method",
        "reference", "external_id", "created_at", "updated_at"), payment_lines())
    _copy(cursor, "receivables_allocation", (
        "id", "organization_id", "invoice_id", "kind", "payment_id", "credit_note_id", "write_off_id", "amount",
        "currency", "applied_on", "created_at"), allocation_lines())
    return n_customers, n_invoices, n_payments


# --- organizations -------------------------------------------------------------------------

def bench_organization_drop(organization) -> None:
    """Delete a synthetic bench organization and its ledger; refuse one with audit entries."""
    from django.db import connection, transaction

    from tenancy.models import AuditEntry

    if AuditEntry.objects.filter(organization=organization).exists():
        raise SystemExit(f"Organization {organization.slug!r} has audit entries, so it is not a synthetic bench "
                         "organization; refusing to delete it. Pick another --org-slug.")
    # Plain SQL, not Model.delete(): the collector would visit every app's related tables, and a
    # row some other app keeps for this organization should stop the drop loudly (a FK error).
    tables = ("receivables_allocation", "receivables_writeoff", "receivables_payment", "receivables_creditnote",
              "receivables_invoice", "receivables_customer", "receivables_fxrate", "tenancy_membership",
              "tenancy_auditchainhead")
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            # Table names are the constants above, never input.
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])  # noqa: S608
        cursor.execute("DELETE FROM tenancy_organization WHERE id = %s", [organization.pk])


def bench_generate(*, slug: str, customers: int, invoices: int, seed: int = 20260101, replace: bool = False,
                   as_of: dt.date | None = None) -> GenerateResult:
    """Create the synthetic organization `slug` and load a ledger of the given size into it."""
    from django.db import connection, transaction
    from django.utils import timezone

    from receivables.models import FxRate
    from tenancy.dates import local_today
    from tenancy.models import Organization

    if connection.vendor != "postgresql":
        raise SystemExit("bench.generate needs PostgreSQL (COPY); set DATABASE_URL=postgres://...")
    existing = Organization.objects.filter(slug=slug).first()
    if existing is not None:
        if not replace:
            raise SystemExit(f"Organization {slug!r} exists; pass --replace to regenerate it.")
        bench_organization_drop(existing)
    started = time.perf_counter()
    timezone_name = "Asia/Shanghai"
    as_of = as_of or local_today(timezone_name)
    ledger = ledger_draw(customers=customers, invoices=invoices, as_of=as_of, seed=seed)
    with transaction.atomic():
        organization = Organization.objects.create(
            name=f"Bench {slug} (synthetic)", slug=slug, base_currency=BASE_CURRENCY, timezone=timezone_name)
        FxRate.objects.bulk_create(
            FxRate(organization=organization, currency=currency, rate_date=on, rate=rate)
            for currency, on, rate in fx_rates_draw(since=as_of - dt.timedelta(days=HISTORY_DAYS + 31), until=as_of,
                                                    seed=seed)
        )
        with connection.cursor() as cursor:
            set_wise = _foreign_key_triggers_off(cursor)
            counts = ledger_load(cursor.cursor, organization_id=organization.pk, ledger=ledger,
                                 now=timezone.now().isoformat())
            if set_wise:
                cursor.execute("SET LOCAL session_replication_role = origin")
                tables_analyze()  # fresh statistics, or the anti-joins below get nested-loop plans
                problems = foreign_keys_check(organization.pk)
                if problems:
                    raise RuntimeError("Generated rows break foreign keys: " + "; ".join(problems))
            # Fire whatever foreign-key checks are still deferred now, so a bad row fails here, loudly.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    tables_analyze()
    allocations = int((ledger.payment_of_invoice >= 0).sum())
    return GenerateResult(organization.pk, as_of, *counts, allocations, time.perf_counter() - started)


LOADED_TABLES = ("receivables_customer", "receivables_invoice", "receivables_payment", "receivables_allocation",
                 "receivables_fxrate")


def _foreign_key_triggers_off(cursor) -> bool:
    """Skip the per-row foreign-key triggers for this transaction when we may (superuser).

    With them, a million-invoice load spends minutes in ~9 million single-row lookups at
    commit; `foreign_keys_check` then checks the same constraints with one anti-join each.
    Without the privilege the triggers stay on: slower, equally strict."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def foreign_keys_check(organization_id: int) -> list[str]:
    """Every foreign key of the loaded tables, checked set-wise for one organization's rows."""
    from django.db import connection
    from psycopg2 import sql

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                   ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
                   ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
            ORDER BY 1""", [list(LOADED_TABLES)])
        constraints = cursor.fetchall()
        problems = []
        for name, table, ref_table, columns, ref_columns in constraints:
            query = sql.SQL(
                "SELECT count(*) FROM {table} c WHERE c.organization_id = %s AND {not_null} "
                "AND NOT EXISTS (SELECT 1 FROM {ref_table} p WHERE {match})"
            ).format(
                table=sql.Identifier(table), ref_table=sql.Identifier(ref_table),
                not_null=sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in columns),
                match=sql.SQL(" AND ").join(sql.SQL("p.{} = c.{}").format(sql.Identifier(r), sql.Identifier(c))
                                            for c, r in zip(columns, ref_columns, strict=True)),
            )
            cursor.execute(query.as_string(cursor.cursor), [organization_id])
            missing = cursor.fetchone()[0]
            if missing:
                problems.append(f"{missing} rows of {table} break {name}")
    return problems


def tables_analyze() -> None:
    """Refresh planner statistics (and the visibility map when outside a transaction)."""
    from django.db import connection

    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in LOADED_TABLES:
            cursor.execute(f"{command} {table}")


def ledger_check(organization) -> list[str]:
    """Every way the stored ledger could disagree with its allocations; empty when consistent."""
    from django.db import connection

    checks = {
        "invoices whose applied_amount is not the sum of their allocations": """
            SELECT count(*) FROM receivables_invoice i LEFT JOIN (
                SELECT invoice_id, sum(amount) AS s FROM receivables_allocation WHERE organization_id = %(org)s
                GROUP BY invoice_id) a ON a.invoice_id = i.id
            WHERE i.organization_id = %(org)s AND i.applied_amount <> coalesce(a.s, 0)""",
        "payments whose unapplied_amount is not amount minus their allocations": """
            SELECT count(*) FROM receivables_payment p LEFT JOIN (
                SELECT payment_id, sum(amount) AS s FROM receivables_allocation WHERE organization_id = %(org)s
                GROUP BY payment_id) a ON a.payment_id = p.id
            WHERE p.organization_id = %(org)s AND p.unapplied_amount <> p.amount - coalesce(a.s, 0)""",
        "allocations dated before their invoice was issued": """
            SELECT count(*) FROM receivables_allocation a JOIN receivables_invoice i ON i.id = a.invoice_id
            WHERE a.organization_id = %(org)s AND a.applied_on < i.issue_date""",
        "allocations whose payment belongs to another customer": """
            SELECT count(*) FROM receivables_allocation a JOIN receivables_invoice i ON i.id = a.invoice_id
            JOIN receivables_payment p ON p.id = a.payment_id
            WHERE a.organization_id = %(org)s AND p.customer_id <> i.customer_id""",
    }
    problems = []
    with connection.cursor() as cursor:
        for description, sql in checks.items():
            cursor.execute(sql, {"org": organization.pk})
            count = cursor.fetchone()[0]
            if count:
                problems.append(f"{count} {description}")
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load a synthetic receivables ledger into PostgreSQL with COPY.")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--org-slug", default="bench")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--replace", action="store_true", help="drop the synthetic organization first if it exists")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.invoices < 1:
        parser.error("--customers and --invoices must be at least 1")

    from bench.db import bench_setup

    bench_setup()
    result = bench_generate(slug=args.org_slug, customers=args.customers, invoices=args.invoices, seed=args.seed,
                            replace=args.replace)
    print(f"organization {args.org_slug!r} (id {result.organization_id}), as of {result.as_of}: "
          f"{result.customers:,} customers, {result.invoices:,} invoices, {result.payments:,} payments, "
          f"{result.allocations:,} allocations in {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
