from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DunningConfig(AppConfig):
    name = "dunning"
    verbose_name = _("Dunning and collections")
    default_auto_field = "django.db.models.BigAutoField"
