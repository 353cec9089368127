from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insurance"
    verbose_name = _("Trade credit insurance")

    def ready(self) -> None:
        # The weekly PDF, the dashboard and the ledger's pages ask; insurance answers.
        from credit.cover import cover_provider_register
        from receivables.markers import invoice_marker_source_register
        from receivables.reporting.sections import ReportSection, section_register

        from .credit_cover import cover_in_force_base
        from .reporting import insurance_section
        from .selectors import invoice_markers

        invoice_marker_source_register(invoice_markers)
        # The credit hold and recommendation read the buyer cover in force (credit sits below insurance).
        cover_provider_register(cover_in_force_base)

        section_register(ReportSection(key="insurance", order=60, build=insurance_section,
                                       template="insurance/weekly_section.html",
                                       dashboard_template="insurance/dashboard_section.html"))
