from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsuranceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insurance"
    verbose_name = _("Trade credit insurance")

    def ready(self) -> None:
        # The weekly PDF and the dashboard ask; insurance answers with its section.
        from receivables.reporting.sections import ReportSection, section_register

        from .reporting import insurance_section

        section_register(ReportSection(key="insurance", order=60, build=insurance_section,
                                       template="insurance/weekly_section.html",
                                       dashboard_template="insurance/dashboard_section.html"))
