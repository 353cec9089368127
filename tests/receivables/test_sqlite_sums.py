"""The reports' raw SQL sums on SQLite (the embedded default), which returns floats: the figures
are the exact ones, as on PostgreSQL. Runs the selectors in a process on a migrated SQLite file."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import datetime as dt, json
from receivables.selectors import aging_report, customer_statement
from receivables.reporting.selectors import top_overdue_invoices, weekly_changes
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice

org = OrganizationFactory(name="SQLite Trading", slug="sqlite")
customer = CustomerFactory(organization=org, name="Float & Co")
from decimal import Decimal
from receivables.models import Invoice
for n in range(3):  # SUM() of three 1.0050 on SQLite: 3.0149999999999997
    invoice = make_invoice(org, customer, amount="1.01", issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 2, 26))
    # sub-fen amounts are refused at entry now (ISO 4217 minor units); rows stored before that rule:
    Invoice.objects.filter(pk=invoice.pk).update(net_amount=Decimal("1.0050"), total_amount=Decimal("1.0050"))
as_of = dt.date(2026, 3, 2)
aging = aging_report(org, as_of)
statement = customer_statement(org, customer, as_of)
print(json.dumps({
    "aging_total": str(aging.total),
    "statement_balance": str(statement.balance("CNY")),
    "statement_lines": [str(line.balance) for line in statement.lines_by_currency["CNY"]],
    "top_overdue": [str(item.balance) for item in top_overdue_invoices(org, as_of)],
    "newly_overdue": str(weekly_changes(org, as_of).new_overdue.amount),
}))
"""


def _manage(*args, database):
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DATABASE_URL=f"sqlite:///{database}", DEBUG="true", EMBEDDED_SCHEDULER="false")
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_aging_statement_and_weekly_sums_on_sqlite_are_exact(tmp_path):
    database = tmp_path / "inflow.sqlite3"
    _manage("migrate", "--no-input", "-v", "0", database=database)

    figures = json.loads(_manage("shell", "--no-imports", "-c", SCRIPT, database=database).strip().splitlines()[-1])

    assert figures == {
        "aging_total": "3.02",  # 3.0150 rounded half up once; from the raw float it was 3.01
        "statement_balance": "3.0150",
        "statement_lines": ["1.0050", "1.0050", "1.0050"],
        "top_overdue": ["1.0050", "1.0050", "1.0050"],
        "newly_overdue": "3.02",
    }
