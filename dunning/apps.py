from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DunningConfig(AppConfig):
    name = "dunning"
    verbose_name = _("Dunning and collections")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The credit hold asks which invoices are disputed or under a payment plan (credit sits below dunning).
        from credit.selectors import overdue_exemption_source_register

        from .credit_hold import overdue_exemptions

        overdue_exemption_source_register(overdue_exemptions)
        # Every invoice list marks what is disputed, promised or on a payment plan (issue 14 item 2).
        from receivables.markers import invoice_marker_source_register

        from .markers import collection_markers

        invoice_marker_source_register(collection_markers)
        from .hub import customer_page_register

        customer_page_register()  # the customer page: collections, the stream, tabs to dunning's pages
        # The customer list's bulk actions: assign a collector, send reminders (issue 14 item 6).
        from .bulk_views import bulk_actions_register

        bulk_actions_register()
