from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "forecasting"
    verbose_name = _("Forecasting")

    def ready(self) -> None:
        from receivables.importing.importers import invoice_column_register

        from . import sections
        from .services import invoice_dispute_flags_store

        invoice_column_register("disputed", invoice_dispute_flags_store)
        sections.register()
