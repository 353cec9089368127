from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "credit"
    verbose_name = _("Credit management")

    def ready(self) -> None:
        from tenancy.services import base_currency_use_register

        base_currency_use_register(_base_currency_use)
        from .hub import customer_page_register

        customer_page_register()  # the customer page: the credit panel, the hold state, a tab to the file
        from receivables.gates import CreditHold, credit_hold_register, over_limit_count_register

        from .selectors import customers_over_limit_count
        from .services import credit_hold_check, credit_hold_check_many

        # The ledger asks before it takes new invoices; the weekly report counts customers over their limit.
        credit_hold_register(CreditHold(check_one=credit_hold_check, check_many=credit_hold_check_many))
        over_limit_count_register(customers_over_limit_count)


def _base_currency_use(organization) -> list[str]:
    """Limits and financial statements are in the base currency too."""
    from django.utils.translation import gettext as _

    from .models import CreditProfile, FinancialStatement

    held = []
    if CreditProfile.objects.filter(organization=organization, credit_limit__isnull=False).exists():
        held.append(_("credit limits"))
    if FinancialStatement.objects.filter(organization=organization).exists():
        held.append(_("financial statements"))
    return held
