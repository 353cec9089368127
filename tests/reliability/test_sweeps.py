"""Sweeps over the seeded demo book: stored XSS and the tenancy matrix.

Stored XSS: every free-text field a user controls is given markup, then every page and every
mail that shows it must print it escaped.

The demo book is seeded, then every text column of every organization-owned table (and the
organization's name, the members' names) gets `<x-xss>` in front. An escaped page shows
`&lt;x-xss&gt;`; a raw `<x-xss>` in HTML is the bug (the dunning preview printed the plain-text
mail raw; mail `<title>`s printed the organization's name raw)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat, Left
from django.urls import reverse

from tenancy.models import Membership, Organization, OutboxMessage

from .conftest import NOW
from .urlwalk import CONSTANT_ARGS, pages, unfilled

MARK = "<x-xss>"
RAW = MARK.encode()
ESCAPED = b"&lt;x-xss&gt;"
APPS = {"tenancy", "receivables", "credit", "dunning", "factoring", "insurance", "forecasting"}
# Not free text a user types: machine values, codes parsed by the app, hashes, secrets.
NOT_FREE_TEXT = {"currency", "timezone", "language", "country", "status", "content_hash", "hash", "prev_hash",
                 "token", "key_hash", "prefix", "secret", "kind", "channel", "template", "date_format",
                 "decimal_separator", "aging_buckets", "file", "stored_name", "path", "default_language",
                 "base_currency", "scopes", "action", "object_type", "object_id", "grade", "level", "decision",
                 "method", "role", "event_type", "type", "code", "idempotency_key", "request_hash", "tone",
                 "segment_code", "weekday", "time_zone", "sheet", "encoding", "delimiter", "headline", "mode",
                 "pdf_path", "xlsx_path", "pdf_file", "xlsx_file", "error_code"}
CODE_WORDS = ("country", "currency", "timezone", "language", "hash", "token", "_code", "format", "separator",
              "holiday", "calendar")
SKIPPED_MODELS = {"tenancy.AuditEntry", "tenancy.AuditChainHead", "tenancy.IdempotencyRecord",
                  "tenancy.WebhookEvent", "tenancy.WebhookDelivery", "tenancy.OutboxMessage"}


def _text_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
            and not isinstance(f, models.SlugField | models.URLField | models.EmailField)
            and not f.choices and f.name not in NOT_FREE_TEXT and not any(w in f.name for w in CODE_WORDS)
            and (f.max_length is None or f.max_length >= 12)]


def poison(organization: Organization) -> list[str]:
    """Put MARK in front of every free-text value of the organization's rows; returns what was changed."""
    changed = []
    for model in apps.get_models():
        label = model._meta.label
        if model._meta.app_label not in APPS or label in SKIPPED_MODELS:
            continue
        if model is Organization:
            rows = Organization.objects.filter(pk=organization.pk)
        elif any(f.name == "organization" for f in model._meta.concrete_fields):
            rows = model._base_manager.filter(organization=organization)
        else:
            continue
        for field in _text_fields(model):
            value = Concat(Value(MARK), F(field.name), output_field=field)
            if field.max_length:
                value = Left(value, field.max_length, output_field=field)
            # empty values stay empty: some are unique only when set (external ids)
            filled = rows.exclude(**{field.name: ""}).exclude(**{f"{field.name}__isnull": True})
            if filled.update(**{field.name: value}):
                changed.append(f"{label}.{field.name}")
    users = get_user_model().objects.filter(pk__in=Membership.objects.filter(organization=organization)
                                            .values("user_id"))
    users.update(first_name=Concat(Value(MARK), Value("First")), last_name=Concat(Value(MARK), Value("Last")))
    return changed


@pytest.fixture(scope="module")
def poisoned(seeded_book, django_db_blocker):
    with django_db_blocker.unblock():
        demo = Organization.objects.get(slug="demo")
        changed = poison(demo)
        yield demo, changed


@pytest.fixture
def demo(poisoned, db):
    return poisoned[0]


@pytest.fixture
def admin_client(demo):
    # Server errors are answered as 500 pages here (and listed), not raised into the test.
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.get(username="demo-admin"))
    return client


def _first(model, organization):
    return model._base_manager.filter(organization=organization).order_by("pk").first()


def _url(page, organization) -> str | None:
    from dunning.portal import portal_token
    from receivables.models import Customer

    kwargs = {}
    for arg in page.args:
        if arg in CONSTANT_ARGS:
            kwargs[arg] = CONSTANT_ARGS[arg]
        elif arg == "token":
            kwargs[arg] = portal_token(organization, _first(Customer, organization))
        else:
            row = _first(page.model_for(arg), organization)
            if row is None:
                return None
            kwargs[arg] = row.pk
    return reverse(page.name, kwargs=kwargs)


def _html(response) -> bytes:
    kind = response.get("Content-Type", "")
    if "html" in kind:
        return response.content
    return b""


def test_every_free_text_field_was_given_markup(poisoned):
    # given the sweep below relies on the poisoning reaching the fields the attack used
    _demo, changed = poisoned
    for field in ("tenancy.Organization.name", "receivables.Customer.name", "receivables.Customer.legal_name",
                  "receivables.Invoice.number", "receivables.Invoice.description", "receivables.Payment.reference",
                  "receivables.WriteOff.reason", "dunning.Dispute.description", "dunning.PromiseToPay.notes"):
        assert field in changed


def test_every_page_pattern_can_be_filled():
    assert unfilled() == []


def test_no_page_prints_user_text_raw(admin_client, demo):
    # when every page is opened as the organization's admin
    raw, errors, shown = [], [], 0
    with time_machine.travel(NOW, tick=False):
        for page in pages():
            url = _url(page, demo)
            if url is None:
                continue
            response = admin_client.get(url)
            if response.status_code >= 500:
                errors.append(url)
            body = _html(response)
            shown += ESCAPED in body
            if RAW in body:
                raw.append(url)
    # then the markup is shown as text everywhere (and was shown somewhere)
    assert errors == []
    assert raw == []
    assert shown >= 10


def test_no_mail_html_carries_user_text_raw(admin_client, demo, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"  # mail kept, as the embedded default does
    from credit.services import alerts_digest_send, alerts_scan
    from dunning.services import dunning_run
    from receivables.models import WeeklyReportSchedule
    from receivables.reporting.services import weekly_report_request

    # given the organization's mail: the dunning run, the weekly report, the credit digest
    before = OutboxMessage.objects.filter(organization=demo).values_list("pk", flat=True)
    before = set(before)
    admin = get_user_model().objects.get(username="demo-admin")
    WeeklyReportSchedule.objects.update_or_create(organization=demo, defaults={"external_recipients": ["cfo@example.com"]})
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        dunning_run(organization=demo)
        weekly_report_request(organization=demo, actor=admin)
        alerts_scan(organization=demo)
        alerts_digest_send(organization=demo)
    sent = OutboxMessage.objects.filter(organization=demo).exclude(pk__in=before)
    assert sent.count() >= 3
    # then no HTML part shows the markup raw, while the plain-text parts carry it as typed
    assert [m.subject for m in sent if MARK in m.html_body] == []
    assert any(MARK in m.body for m in sent)
    assert any("&lt;x-xss&gt;" in m.html_body for m in sent)
    # and the outbox pages show each message escaped
    for message in sent:
        response = admin_client.get(reverse("outbox_detail", args=[message.pk]))
        assert response.status_code == 200
        assert RAW not in response.content


# --- the tenancy matrix ------------------------------------------------------------------------
# Users of every role of another organization (and its API key) ask for every page and every API
# operation with the demo organization's ids: each answer must be the one a missing id gets (a
# 404 for a read), and nothing is written in the demo organization.

MISSING = 987_654_321
ROLES = ["admin", "credit_manager", "collector", "viewer"]


@pytest.fixture
def outsiders(demo):
    from tenancy.models import Role
    from tests.factories import MembershipFactory

    rival = Organization.objects.get(slug="northwind")
    users = {role: MembershipFactory(organization=rival, role=Role(role)).user for role in ROLES}
    return rival, users


def _page_urls(page, organization) -> tuple[str, str] | None:
    """The page with the organization's ids, and with a missing id in their place."""
    own, missing = {}, {}
    for arg in page.args:
        if arg in CONSTANT_ARGS:
            own[arg] = missing[arg] = CONSTANT_ARGS[arg]
        elif arg == "token":
            return None  # a portal link is its own credential, not an id (tests/reliability/test_portal_limits.py)
        else:
            row = _first(page.model_for(arg), organization)
            if row is None:
                return None
            own[arg], missing[arg] = row.pk, MISSING
    return reverse(page.name, kwargs=own), reverse(page.name, kwargs=missing)


def _writes(organization) -> int:
    from tenancy.models import AuditEntry

    return AuditEntry.objects.filter(organization=organization).count()


def test_pages_with_another_organizations_ids_answer_like_missing_ones(demo, outsiders):
    from django.test import Client

    client = Client(raise_request_exception=False)
    _rival, users = outsiders
    before = _writes(demo)
    leaks, covered = [], 0
    with time_machine.travel(NOW, tick=False):
        for page in pages():
            urls = _page_urls(page, demo) if page.args else None
            if urls is None:
                continue
            covered += 1
            own, missing = urls
            for role, user in users.items():
                client.force_login(user)
                for method in ("get", "post"):
                    theirs, absent = getattr(client, method)(own), getattr(client, method)(missing)
                    if theirs.status_code != absent.status_code:
                        leaks.append((role, method, own, theirs.status_code, absent.status_code))
    assert leaks == []
    assert covered >= 40
    assert _writes(demo) == before


def _api_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method) for path, operations in schema["paths"].items() if "{" in path
            for method in operations if method in ("get", "post", "patch", "put", "delete")]


def _api_model(path: str):
    from django.urls import resolve

    from receivables.models import Invoice

    probe = re.sub(r"\{[^}]+\}", "1", path)
    view_class = getattr(resolve(probe).func, "cls", None)
    scoped = getattr(view_class, "scoped_queryset", None)
    if scoped is not None:
        try:
            return scoped(view_class(), Organization(pk=0)).model
        except NotImplementedError:
            pass
    return Invoice if "/invoices/" in path else None


def _api_url(path: str, row, *, missing: bool) -> str:
    def value(match):
        name = match.group(1)
        if name == "week_start":
            return "2026-03-16"
        if name == "external_id":
            return f"missing-{MISSING}" if missing else (row.external_id or "none")
        return str(MISSING if missing else row.pk)

    return re.sub(r"\{([^}]+)\}", value, path)


def test_api_operations_with_another_organizations_ids_answer_like_missing_ones(demo, outsiders):
    from rest_framework.test import APIClient

    from tests.api.conftest import key_client

    rival, users = outsiders
    callers = {"api key": key_client(rival, rate_limit_per_minute=1_000_000)}
    for role, user in users.items():
        session = APIClient()
        session.force_authenticate(user)
        callers[role] = session
    before = _writes(demo)
    leaks, covered = [], 0
    with time_machine.travel(NOW, tick=False):
        for path, method in _api_operations():
            model = _api_model(path)
            row = _first(model, demo) if model is not None else None
            if row is None and "{id}" in path:
                continue
            covered += 1
            own, missing = _api_url(path, row, missing=False), _api_url(path, row, missing=True)
            for name, api in callers.items():
                theirs = getattr(api, method)(own, {}, format="json", HTTP_IF_MATCH="*")
                absent = getattr(api, method)(missing, {}, format="json", HTTP_IF_MATCH="*")
                if theirs.status_code != absent.status_code or (method == "get" and theirs.status_code != 404
                                                                 and "{id}" in path):
                    leaks.append((name, method, own, theirs.status_code, absent.status_code))
    assert leaks == []
    assert covered >= 40
    assert _writes(demo) == before
