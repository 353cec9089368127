"""A prediction's reasons in words, in the reader's language (stored as feature, value and days)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}"


def _what(feature: str, value: float | None) -> str:
    v = _number(value)
    texts = {
        "history_count": (_("No payment history before this invoice") if not value
                          else _("%(v)s invoices of the customer settled before this one") % {"v": v}),
        "history_median": _("The customer's median delay is %(v)s days") % {"v": v},
        "history_mean": _("The customer's average delay is %(v)s days") % {"v": v},
        "history_spread": _("The customer's delays vary by %(v)s days") % {"v": v},
        "history_worst": _("The customer's worst delay was %(v)s days") % {"v": v},
        "history_share_late": _("%(v)s%% of the customer's invoices were paid late") % {"v": _percent(value)},
        "history_recency": _("The customer's last payment was %(v)s days before the issue date") % {"v": v},
        "history_last": _("The customer's last invoice was paid %(v)s days after its due date") % {"v": v},
        "history_dispute_share": _("%(v)s%% of the customer's invoices were disputed") % {"v": _percent(value)},
        "amount_log": _("The invoice amount"),
        "amount_vs_usual": _("The amount is %(v)s times the customer's usual") % {"v": _number(value)},
        "terms_days": _("Payment terms of %(v)s days") % {"v": v},
        "issue_month": _("Issued in month %(v)s") % {"v": v},
        "disputed": _("The invoice is disputed") if value else _("The invoice is not disputed"),
        "promises_before": _("%(v)s promises to pay on record") % {"v": v},
        "broken_promises_before": _("%(v)s broken promises on record") % {"v": v},
    }
    return texts.get(feature, feature)


def reason_text(reason: dict) -> str:
    """One stored reason as a sentence: what, and how many days it moves the expected date."""
    if reason.get("feature") == "baseline":
        return _("Baseline: due date + the customer's median delay (%(days)s days); too little history for the model.") \
            % {"days": _number(reason.get("days"))}
    days = reason.get("days") or 0
    if days >= 0:
        effect = _("%(days)s days later") % {"days": _number(days)}
    else:
        effect = _("%(days)s days earlier") % {"days": _number(-days)}
    return f"{_what(reason.get('feature', ''), reason.get('value'))}: {effect}"


def reasons_text(reasons: list[dict]) -> list[str]:
    return [reason_text(reason) for reason in reasons or []]
