"""Check every organization's audit chain (or one) and report the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from tenancy.models import Organization
from tenancy.selectors import audit_verify


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; exit 1 at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="slug of one organization (default: all)")

    def handle(self, *args, organization=None, **options):
        organizations = Organization.objects.order_by("slug")
        if organization:
            organizations = organizations.filter(slug=organization)
            if not organizations.exists():
                raise CommandError(f"No organization with slug {organization!r}.")
        broken = 0
        for org in organizations:
            result = audit_verify(org)
            if result.ok:
                self.stdout.write(f"{org.slug}: ok ({result.checked} entries)")
            else:
                broken += 1
                self.stdout.write(self.style.ERROR(
                    f"{org.slug}: BROKEN at entry {result.broken_at}: {result.reason} "
                    f"({result.checked} entries verified before it)"
                ))
        if broken:
            raise CommandError(f"{broken} organization(s) have a broken audit chain.")
