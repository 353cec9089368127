"""Every browser URL pattern of the project, with its arguments filled from an organization's rows.

Shared by the XSS sweep and the tenancy matrix: both must see a page the moment someone adds it.
A pattern whose arguments this module cannot fill is listed by `unfilled()`, and the tests fail
on it, so a new page is added here rather than silently left out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

# Prefixes that are not the organization's browser pages: the admin (its own test), the API (the
# OpenAPI walk), Django's language switcher, and uploads served by DEBUG's static view.
SKIPPED_PREFIXES = ("admin/", "api/", "i18n/", "^media/", "media/", "static/")

# Which model a pattern's `pk` means, by route name (namespace:name).
PK_MODELS = {
    "outbox_detail": "tenancy.OutboxMessage",
    "integrations:key_revoke": "tenancy.ApiKey",
    "integrations:endpoint": "tenancy.WebhookEndpoint",
    "integrations:endpoint_toggle": "tenancy.WebhookEndpoint",
    "integrations:redeliver": "tenancy.WebhookDelivery",
    "customer_detail": "receivables.Customer",
    "customer_update": "receivables.Customer",
    "invoice_detail": "receivables.Invoice",
    "invoice_update": "receivables.Invoice",
    "invoice_void": "receivables.Invoice",
    "invoice_write_off": "receivables.Invoice",
    "invoice_credit_note": "receivables.Invoice",
    "payment_detail": "receivables.Payment",
    "payment_update": "receivables.Payment",
    "payment_allocate": "receivables.Payment",
    "payment_reverse": "receivables.Payment",
    "payment_unapply": "receivables.Payment",
    "payment_refund": "receivables.Payment",
    "credit_note_update": "receivables.CreditNote",
    "write_off_update": "receivables.WriteOff",
    "importing:job": "receivables.ImportJob",
    "importing:mapping": "receivables.ImportJob",
    "importing:preview": "receivables.ImportJob",
    "importing:confirm": "receivables.ImportJob",
    "importing:status": "receivables.ImportJob",
    "reporting:download": "receivables.WeeklyReport",
    "dunning:run_detail": "dunning.DunningRun",
    "dunning:policy_edit": "dunning.DunningPolicy",
    "dunning:task_log": "dunning.CollectionTask",
    "dunning:task_take": "dunning.CollectionTask",
    "dunning:dispute_resolve": "dunning.Dispute",
    "credit:approval_decide": "credit.LimitRequest",
    "credit:customer": "receivables.Customer",
    "credit:customer_document": "receivables.Customer",
    "credit:customer_action": "receivables.Customer",
    "factoring:facility_detail": "factoring.Facility",
    "factoring:facility_edit": "factoring.Facility",
    "factoring:eligibility": "factoring.Facility",
    "factoring:statement_import": "factoring.Facility",
    "factoring:seller_settle": "factoring.Facility",
    "factoring:assignment_detail": "factoring.Assignment",
    "factoring:assignment_action": "factoring.Assignment",
    "factoring:schedule_export": "factoring.Assignment",
    "factoring:notice": "factoring.Assignment",
    "factoring:repurchase": "factoring.AssignmentLine",
    "insurance:policy_detail": "insurance.Policy",
    "insurance:customer": "receivables.Customer",
    "insurance:customer_action": "receivables.Customer",
    "insurance:cover_decide": "insurance.CoverRequest",
    "insurance:claim_detail": "insurance.Claim",
    "insurance:claim_download": "insurance.Claim",
    "insurance:claim_action": "insurance.Claim",
    "forecasting:invoice": "receivables.Invoice",
}
# Other argument names mean the same model wherever they appear.
ARG_MODELS = {
    "customer_pk": "receivables.Customer",
    "invoice_pk": "receivables.Invoice",
    "invoice_id": "receivables.Invoice",
    "document_pk": "credit.CreditDocument",
    "policy_pk": "insurance.Policy",
}
# Arguments that are not ids: one value that reaches the view's object lookup.
CONSTANT_ARGS = {"kind": "pdf", "action": "profile", "fmt": "csv", "week_start": "2026-03-16", "template": "reminder",
                 "language": "zh-hans"}  # the wording page's language: Chinese text is no English left in a zh page


@dataclass(frozen=True)
class Page:
    name: str          # namespace:name
    route: str         # the pattern as written, for messages
    args: tuple[str, ...]

    def model_for(self, arg: str):
        label = ARG_MODELS.get(arg) if arg != "pk" else PK_MODELS.get(self.name)
        return apps.get_model(label) if label else None


def _walk(resolver, prefix: str = "", namespace: str = "") -> Iterator[Page]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}".strip(":") if pattern.namespace else namespace
            yield from _walk(pattern, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and not route.startswith(SKIPPED_PREFIXES):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield Page(name, route, tuple(pattern.pattern.regex.groupindex))


def pages() -> list[Page]:
    """Every named browser page of the project (API, admin and i18n excluded)."""
    return list(_walk(get_resolver()))


def unfilled() -> list[Page]:
    """Pages with an argument this module does not know how to fill."""
    return [p for p in pages() for a in p.args
            if a not in CONSTANT_ARGS and a != "token" and p.model_for(a) is None]
