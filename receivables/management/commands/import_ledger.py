"""manage.py import_ledger: import a CSV/XLSX file of customers, invoices or payments."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from receivables.importing.errors import ImportInvalidError
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.reader import table_read
from receivables.importing.services import import_run
from receivables.models import ImportKind
from tenancy.errors import DomainError
from tenancy.models import Organization


class Command(BaseCommand):
    help = ("Import customers, invoices or payments from a CSV/XLSX file with a JSON column mapping "
            "(see docs/mappings/). Validates the whole file first: on any error nothing is written, every "
            "error is printed with its row and column, and the exit code is 1.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .csv or .xlsx file")
        parser.add_argument("--organization", required=True, help="organization slug")
        parser.add_argument("--kind", choices=ImportKind.values, help="defaults to the mapping's kind")
        parser.add_argument("--mapping", required=True, help="mapping JSON file")
        parser.add_argument("--user", help="username to act as (recorded in the audit log); default: system")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['organization']!r}.")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['user']!r}.")
        path = Path(options["file"])
        try:
            mapping = mapping_from_dict(json.loads(Path(options["mapping"]).read_text(encoding="utf-8")),
                                        kind=options["kind"])
            with path.open("rb") as file:
                table = table_read(file, path.name)
            result = import_run(organization=organization, actor=actor, kind=mapping.kind, table=table,
                                mapping=mapping)
        except ImportInvalidError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(exc.message) from None
        except (DomainError, OSError, json.JSONDecodeError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{mapping.kind}: {result.total} rows, {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
            + (f"; {result.customers_created} customers created" if result.customers_created else "")
        )
