from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "factoring"
    verbose_name = _("Factoring and invoice discounting")

    def ready(self) -> None:
        # Lower apps ask, factoring answers: dunning (who must not be dunned, whom to pay), the
        # weekly PDF and the dashboard (the factoring position), the ledger's pages (assigned invoices).
        from dunning.financing import financing_source_register
        from receivables.markers import invoice_marker_source_register
        from receivables.reporting.sections import ReportSection, section_register

        from .reporting import factoring_section
        from .selectors import DunningAnswers, invoice_markers

        financing_source_register(DunningAnswers)
        invoice_marker_source_register(invoice_markers)
        section_register(ReportSection(key="factoring", order=50, build=factoring_section,
                                       template="factoring/weekly_section.html",
                                       dashboard_template="factoring/dashboard_section.html"))
