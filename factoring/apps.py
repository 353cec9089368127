from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "factoring"
    verbose_name = _("Factoring and invoice discounting")

    def ready(self) -> None:
        # Lower apps ask, factoring answers: dunning (who must not be dunned, whom to pay).
        from dunning.financing import financing_source_register

        from .selectors import DunningAnswers

        financing_source_register(DunningAnswers)
