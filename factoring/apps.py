from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "factoring"
    verbose_name = _("Factoring and invoice discounting")
