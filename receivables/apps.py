from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceivablesConfig(AppConfig):
    name = "receivables"
    verbose_name = _("Receivables")

    def ready(self) -> None:
        # Amounts finer than the currency's minor unit are refused wherever these rows are checked.
        from tenancy.money import minor_unit_fields_register
        from tenancy.services import base_currency_use_register

        minor_unit_fields_register("receivables.Invoice", ("net_amount", "tax_amount"))
        minor_unit_fields_register("receivables.Payment", ("amount",))
        minor_unit_fields_register("receivables.CreditNote", ("amount",))
        minor_unit_fields_register("receivables.WriteOff", ("amount",))
        base_currency_use_register(_base_currency_use)


def _base_currency_use(organization) -> list[str]:
    """What the ledger holds in the organization's base currency (amounts and rates to it)."""
    from django.utils.translation import gettext as _

    from .models import CreditNote, FxRate, Invoice, Payment

    names = ((Invoice, _("invoices")), (Payment, _("payments")), (CreditNote, _("credit notes")),
             (FxRate, _("FX rates")))
    return [name for model, name in names if model.objects.filter(organization=organization).exists()]
