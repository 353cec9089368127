"""Role-aware pages (issue 14 item 8): every page of the demo book, opened by each role, offers
no form or button whose target would refuse that role. A viewer sees no POST form at all
besides the language switch, the organization switch and sign-out.

The pages are walked from the URL patterns (tests/reliability/urlwalk.py) with the demo
organization's real ids, so a new page is checked the day it is added."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from tenancy.models import Organization, Role, role_covers
from tests.reliability.conftest import NOW, seeded_book  # noqa: F401 (the module's demo book)
from tests.reliability.test_sweeps import _url
from tests.reliability.urlwalk import pages

# Forms every signed-in member may post: they change the member's own session, not the books.
ALWAYS_ALLOWED = {"language_set", "set_language", "organization_switch", "logout"}

# The role each write needs (checked again by its service), by route name. A form or button
# (`<a class="btn">` to a page whose purpose is a form) aiming at a route below is offered only
# to members holding the role.
NEEDS = {
    # tenancy: settings, members, integrations (admins)
    "organization_settings": Role.ADMIN, "membership_set": Role.ADMIN,
    "integrations:key_create": Role.ADMIN, "integrations:key_revoke": Role.ADMIN,
    "integrations:endpoint_create": Role.ADMIN, "integrations:endpoint": Role.ADMIN,
    "integrations:endpoint_toggle": Role.ADMIN, "integrations:redeliver": Role.ADMIN,
    # dunning
    "dunning:run_now": Role.COLLECTOR, "dunning:policy_create": Role.ADMIN, "dunning:policy_edit": Role.ADMIN,
    "dunning:customer_settings": Role.CREDIT_MANAGER, "dunning:plan_create": Role.COLLECTOR,
    "dunning:task_log": Role.COLLECTOR, "dunning:task_take": Role.COLLECTOR,
    "dunning:dispute_open": Role.COLLECTOR, "dunning:dispute_resolve": Role.COLLECTOR,
    "dunning:promise_create": Role.COLLECTOR, "dunning:message_template_edit": Role.ADMIN,
    "dunning:message_template_preview": Role.ADMIN, "dunning:customer_promise": Role.COLLECTOR,
    "dunning:customer_dispute": Role.COLLECTOR, "dunning:customer_call": Role.COLLECTOR,
    # receivables: the ledger (collectors), write-offs, reversals and refunds, FX rates (credit managers)
    "customer_create": Role.COLLECTOR, "customer_update": Role.COLLECTOR, "invoice_create": Role.COLLECTOR,
    "invoice_update": Role.COLLECTOR, "invoice_void": Role.COLLECTOR, "invoice_credit_note": Role.COLLECTOR,
    "invoice_write_off": Role.CREDIT_MANAGER, "payment_record": Role.COLLECTOR, "payment_update": Role.COLLECTOR,
    "payment_allocate": Role.COLLECTOR, "payment_unapply": Role.COLLECTOR, "payment_reverse": Role.CREDIT_MANAGER,
    "payment_refund": Role.CREDIT_MANAGER, "credit_note_update": Role.COLLECTOR,
    "write_off_update": Role.CREDIT_MANAGER, "fx_rate_list": Role.CREDIT_MANAGER,
    "importing:start": Role.COLLECTOR, "importing:mapping": Role.COLLECTOR, "importing:preview": Role.COLLECTOR,
    "importing:confirm": Role.COLLECTOR,
    "reporting:schedule": Role.ADMIN, "reporting:send_now": Role.ADMIN,
    # factoring
    "factoring:facility_create": Role.ADMIN, "factoring:facility_edit": Role.ADMIN,
    "factoring:eligibility": Role.CREDIT_MANAGER, "factoring:statement_import": Role.CREDIT_MANAGER,
    "factoring:seller_settle": Role.COLLECTOR, "factoring:repurchase": Role.CREDIT_MANAGER,
    "factoring:assignment_action/submit": Role.CREDIT_MANAGER, "factoring:assignment_action/approve": Role.ADMIN,
    "factoring:assignment_action/cancel": Role.CREDIT_MANAGER, "factoring:assignment_action/fund": Role.CREDIT_MANAGER,
    # credit
    "credit:customer_action/score": Role.COLLECTOR, "credit:customer_action/profile": Role.COLLECTOR,
    "credit:customer_action/signal": Role.COLLECTOR, "credit:customer_action/limit": Role.COLLECTOR,
    "credit:customer_action/financials": Role.COLLECTOR, "credit:customer_action/document": Role.COLLECTOR,
    "credit:customer_action/blacklist": Role.CREDIT_MANAGER, "credit:approval_decide": Role.CREDIT_MANAGER,
    # insurance
    "insurance:customer_action/declare": Role.COLLECTOR, "insurance:customer_action/cover": Role.CREDIT_MANAGER,
    "insurance:customer_action/claim": Role.CREDIT_MANAGER, "insurance:cover_decide": Role.CREDIT_MANAGER,
    "insurance:claim_action/file": Role.CREDIT_MANAGER, "insurance:claim_action/decide": Role.CREDIT_MANAGER,
    "insurance:claim_action/pay": Role.CREDIT_MANAGER, "insurance:policy_list": Role.ADMIN,
    # forecasting
    "forecasting:overlay_create": Role.CREDIT_MANAGER, "forecasting:assessment_create": Role.CREDIT_MANAGER,
}

NEEDS["dunning:reminder_send"] = Role.COLLECTOR  # its page shows a viewer the draft; a button to it says "send"

# Pages every member may read that also take a post: a link to them is no offer to write.
READ_TOO = {"organization_settings", "insurance:policy_list", "fx_rate_list", "importing:preview"}

ROLES = {"demo-viewer": Role.VIEWER, "demo-collector": Role.COLLECTOR, "demo-credit": Role.CREDIT_MANAGER,
         "demo-admin": Role.ADMIN}


class _Targets(HTMLParser):
    """POST forms (their action, '' for the page itself) and button-styled links on a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[str] = []
        self.buttons: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.forms.append(attrs.get("action") or "")
        elif tag == "a" and re.search(r"\bbtn\b", attrs.get("class") or "") and attrs.get("href"):
            self.buttons.append(attrs["href"])


def _route(url: str, page_url: str) -> str | None:
    path = urlsplit(url or page_url).path
    try:
        match = resolve(path)
    except Resolver404:
        return None
    action = match.kwargs.get("action")
    return f"{match.view_name}/{action}" if action else match.view_name


@pytest.fixture(scope="module")
def demo(seeded_book, django_db_blocker):  # noqa: F811
    with django_db_blocker.unblock():
        yield Organization.objects.get(slug="demo")


def _page_urls(organization) -> list[str]:
    urls = []
    for page in pages():
        if page.name.startswith("portal:") or page.name in ALWAYS_ALLOWED | {"login", "logout"}:
            continue
        url = _url(page, organization)
        if url is not None:
            urls.append(url)
    return urls


def _offers(username: str, organization) -> list[tuple[str, str, str]]:
    """(page, 'form' or 'button', target route) of every write the member is offered."""
    import time_machine

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username=username))
    offered = []
    with time_machine.travel(NOW, tick=False):
        for url in _page_urls(organization):
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = _Targets()
            parser.feed(response.content.decode())
            offered += [(url, "form", _route(action, url)) for action in parser.forms]
            offered += [(url, "button", _route(href, url)) for href in parser.buttons]
    return offered


@pytest.mark.django_db
def test_a_viewer_is_offered_no_post_form_but_language_organization_and_sign_out(demo):
    forms = [(url, target) for url, kind, target in _offers("demo-viewer", demo)
             if kind == "form" and target not in ALWAYS_ALLOWED]
    assert forms == [], "\n".join(f"{url} -> {target}" for url, target in forms)


@pytest.mark.django_db
@pytest.mark.parametrize("username", list(ROLES))
def test_no_role_is_offered_a_write_it_would_be_refused(demo, username):
    held = ROLES[username]
    refused = sorted({(url, kind, target) for url, kind, target in _offers(username, demo)
                      if target in NEEDS and not role_covers(held, NEEDS[target])
                      and not (kind == "button" and target in READ_TOO)})
    assert refused == [], "\n".join(f"{url}: {kind} -> {target}" for url, kind, target in refused)


def test_every_write_named_here_is_a_route():
    for name in NEEDS:
        assert reverse(name.partition("/")[0], kwargs=_dummy_kwargs(name))


def _dummy_kwargs(name: str) -> dict:
    name, _slash, action = name.partition("/")
    page = next(p for p in pages() if p.name == name)
    values = {"template": "reminder", "language": "en", "action": action}
    return {arg: values.get(arg, 1) for arg in page.args}


# --- a decision that depends on the row, not only on the page ---------------------------------

@pytest.mark.django_db
def test_a_limit_needing_an_admin_is_offered_for_decision_to_admins_only(client, organization, customer,
                                                                        collector, credit_manager, admin_user):
    from decimal import Decimal

    from django.utils import timezone

    from credit.models import LimitRequest

    request = LimitRequest.objects.create(
        organization=organization, customer=customer, requested_limit=Decimal("9000000.00"), requested_terms_days=60,
        reason="Large order", levels_required=["admin"], requested_by=collector, created_at=timezone.now())
    decide = reverse("credit:approval_decide", args=[request.pk])

    def approvals(user) -> str:
        client.force_login(user)
        return client.get(reverse("credit:approvals")).content.decode()

    assert decide not in approvals(credit_manager)
    assert decide in approvals(admin_user)
    mine = approvals(collector)
    assert decide not in mine and "Your request: someone else decides." in mine
