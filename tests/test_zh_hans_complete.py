"""Simplified Chinese is complete: every page, opened by a zh-hans admin on the seeded demo book,
shows no English word that the UI wrote (issue 14 item 10).

Every page pattern is opened with real ids (tests/pages.py), as the admin so every control shows,
and as the viewer for the read-only variants.
The visible text is kept (scripts, styles, comments, code samples and what the user typed into
form fields left out), plus the attributes people read (placeholder, title, aria-label, alt, button
values). What may stay English: codes and numbers, the names and free text in the organization's
data (customers, users, organizations, descriptions typed by people), the brand, units and
standards (CSV, PDF, API, DSO, ECL, P10/P50/P90, IFRS 9), e-mail addresses and links, and a passage
marked as another language (`lang="en"`: a message rendered in an English customer's language).
Everything else is listed by page, so a new page in English fails here the day it is added."""

from __future__ import annotations

import re
import zoneinfo
from collections import defaultdict
from html.parser import HTMLParser

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.pages import IMPORT_FILE, is_html, page_urls, rows_for_every_page
from tests.reliability.conftest import NOW

pytestmark = pytest.mark.django_db

# Words that are not English prose in a Chinese page: the brand, units, standards, file formats, the
# language's own name in the language switcher (each language is named in itself).
ALLOWED = {"inflow", "webhook", "csv", "xlsx", "pdf", "api", "dso", "ecl", "ifrs", "english", "json", "zip", "url",
           "iso", "fx", "id", "po", "vat", "sepa", "swift", "iban", "erp", "uscc", "altman", "https", "http",
           "www", "x", "strftime", "ltd", "co", "inc", "llc", "gmbh", "ag", "sa", "sarl", "srl", "bv", "mm", "dd", "yyyy"}
# The organization's data that may be in any language: names, numbers and the free text people typed
# (or an insurer or registry sent). Text the app writes itself and stores (alert messages, task titles,
# timeline summaries, score factors) is not here: it must be Chinese on a Chinese page.
DATA_FIELDS = {
    "tenancy.Organization.name",
    "receivables.Customer.name", "receivables.Customer.legal_name", "receivables.Customer.external_id",
    "receivables.Customer.registration_number", "receivables.Customer.contact_emails",
    "receivables.Customer.contact_name", "receivables.Customer.contact_phone",
    "receivables.Invoice.number", "receivables.Invoice.description", "receivables.Invoice.po_reference",
    "receivables.CreditNote.number", "receivables.CreditNote.reason", "receivables.Payment.reference",
    "receivables.WriteOff.reason",
    "credit.CreditProfile.industry", "credit.CreditProfile.registry_id", "credit.ExternalSignal.description",
    "credit.LimitRequest.reason", "credit.LimitApprovalStep.comment", "credit.CreditDocument.title",
    "dunning.Dispute.description", "dunning.PromiseToPay.notes", "dunning.PaymentPlan.notes",
    "dunning.DunningPolicy.name",
    "factoring.Facility.name", "factoring.Entry.reference", "factoring.FactorStatement.file_name",
    "factoring.FactorStatementRow.reference", "factoring.Repurchase.note", "factoring.Assignment.number",
    "insurance.Policy.insurer_name", "insurance.Policy.policy_number", "insurance.Policy.discretionary_conditions",
    "insurance.CoverRequest.reason_text",
    "forecasting.ProvisionOverlay.reason",
}
SKIPPED_TAGS = {"script", "style", "code", "kbd", "samp", "textarea", "svg"}
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
# Code inside prose: JSON examples ({"method": "bank_transfer"}) and strftime formats (%Y-%m-%d).
CODE_IN_TEXT = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|%[A-Za-z]")
EMAIL_OR_LINK = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|/[\w./-]+")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
DOTTED = re.compile(r"[a-z_]+(?:\.[a-z_]+)+")  # identifiers such as webhook event types: invoice.paid
TIME_ZONES = zoneinfo.available_timezones()  # IANA names are identifiers (Asia/Shanghai), not prose


class _Text(HTMLParser):
    """The text a reader sees (and reads in tooltips and placeholders), without other-language parts."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []   # (tag, skipped)

    @property
    def skipping(self) -> bool:
        return any(skipped for _tag, skipped in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = (attributes.get("lang") or "").lower()
        skipped = tag in SKIPPED_TAGS or (tag != "html" and bool(lang) and not lang.startswith("zh"))
        if not self.skipping and not skipped:
            self.parts.extend(attributes[name] for name in READ_ATTRIBUTES if attributes.get(name))
            if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
                self.parts.append(attributes["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skipped))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(part.strip() for part in parser.parts)


def english_words(text: str, data: re.Pattern | None = None) -> list[str]:
    """Words of Latin letters that are not codes (all capitals, or with digits), not in ALLOWED, not
    in e-mail addresses or links, and not part of the organization's data (`data` matches its values)."""
    if data is not None:
        text = data.sub(" ", text)
    text = " ".join(piece for piece in text.split() if piece.strip("(),;") not in TIME_ZONES)
    text = EMAIL_OR_LINK.sub(" ", CODE_IN_TEXT.sub(" ", text))
    found = []
    for token in re.findall(r"[A-Za-z0-9_][A-Za-z0-9_'’.-]*", text):
        if any(ch.isdigit() for ch in token) or DOTTED.fullmatch(token.rstrip(".")):
            continue  # amounts, dates, numbers, codes such as P90 or INV-2026-0001, event types (invoice.paid)
        for word in WORD.findall(token):
            bare = word.strip("'’")
            if bare.isupper():
                continue  # codes, acronyms and grades: CNY, USD, DSO, A-E
            if bare.lower() in ALLOWED:
                continue
            found.append(bare)
    return found


def data_pattern(organizations, extra=()) -> re.Pattern:
    """Matches the values of the organizations' own data (DATA_FIELDS) and the members' names,
    usernames and e-mails: English there is what people typed, not what the UI wrote."""
    values: set[str] = set()

    def add(value):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item.strip()) >= 2 and WORD.search(item):
                values.add(item.strip())

    by_model = defaultdict(list)
    for label in DATA_FIELDS:
        app_label, model_name, field = label.split(".")
        by_model[(app_label, model_name)].append(field)
    for (app_label, model_name), fields in by_model.items():
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        if model_name == "Organization":
            rows = model._base_manager.filter(pk__in=[o.pk for o in organizations])
        else:
            rows = model._base_manager.filter(organization__in=organizations)
        for row in rows.values_list(*fields):
            for value in row:
                add(value)
    for user in get_user_model().objects.filter(memberships__organization__in=organizations).distinct():
        for value in (user.username, user.first_name, user.last_name, user.email, user.get_full_name()):
            add(value)
    for value in extra:
        add(value)
    return re.compile("|".join(re.escape(value) for value in sorted(values, key=len, reverse=True)))


def english_left(client: Client, urls, data: re.Pattern) -> tuple[dict[str, list[str]], list[str], int]:
    """English words left per page, pages that failed (500), pages read."""
    left, errors, read = {}, [], 0
    for page in urls:
        response = client.get(page.url)
        if response.status_code >= 500:
            errors.append(str(page))
            continue
        if not is_html(response):
            continue
        read += 1
        if lines := english_lines(visible_text(response.content.decode()), data):
            left[str(page)] = lines
    return left, errors, read


def english_lines(text: str, data: re.Pattern) -> list[str]:
    """The lines of text with English left in them (shortened), for the failure message."""
    return [line[:120] for line in dict.fromkeys(text.splitlines()) if english_words(line, data)]


def report(left: dict[str, list[str]], data: re.Pattern) -> str:
    words = {word for lines in left.values() for line in lines for word in english_words(line, data)}
    body = "\n".join(f"{page}:\n    " + "\n    ".join(lines[:12]) for page, lines in sorted(left.items()))
    return body + f"\n{len(words)} distinct words on {len(left)} pages"


# --- the test -------------------------------------------------------------------------------------

def test_the_text_reader_keeps_prose_and_drops_code_and_other_languages():
    html = ('<html lang="zh-hans"><head><style>.a{color:red}</style><script>var x="Hello";</script></head>'
            '<body><h1>发票</h1><p>Overdue invoices</p><input type="submit" value="Save">'
            '<input placeholder="Search"><code>customer_name</code><textarea>typed text</textarea>'
            '<div lang="en">Dear customer</div><!-- a comment --></body></html>')
    text = visible_text(html)
    assert english_words(text) == ["Overdue", "invoices", "Save", "Search"]
    assert english_words("CNY 1,200.00 · P90 · INV-2026-0001 · a@b.example · DSO 45 天 · 等级 B") == []
    assert english_words("客户 Pacific Rim Imports LLC 逾期", re.compile("Pacific Rim Imports LLC")) == []
    assert english_words('例如 {"method": "bank_transfer"}，格式 %Y-%m-%d，事件 invoice.paid') == []


@pytest.fixture
def seeded(db):
    from tests.reliability.conftest import seed_demo

    seed_demo()


def test_every_page_in_simplified_chinese_has_no_english_left(seeded, settings, tmp_path):
    from receivables.models import Customer
    from tenancy.models import Membership, Organization
    from tenancy.services import user_language_set

    # given the demo organization's admin (every control shows) and its viewer (the read-only
    # variants: settings as text, drafts instead of forms), who read the UI in Simplified Chinese
    demo = Organization.objects.get(slug="demo")
    admin = get_user_model().objects.get(username="demo-admin")
    settings.MEDIA_ROOT = tmp_path
    rows_for_every_page(demo, admin)
    chinese_customer = Customer.objects.filter(organization=demo, language="zh-hans").order_by("pk").first()
    organizations = list(Organization.objects.filter(pk__in=Membership.objects.filter(user=admin)
                                                     .values("organization_id")))
    # the imported file's own column names are its data too (the mapping page lists them)
    header = IMPORT_FILE.read_text(encoding="utf-8").splitlines()[0].split(",")
    data = data_pattern(organizations, extra=header)
    left, errors, read = {}, [], 0
    # when every page is opened by each (the portal as a Chinese-speaking customer), and the
    # sign-in page by a visitor whose browser asks for Chinese
    with time_machine.travel(NOW, tick=False):
        urls = page_urls(demo, portal_customers=[chinese_customer], today=NOW.date())
        for username in ("demo-admin", "demo-viewer"):
            user = get_user_model().objects.get(username=username)
            user_language_set(user=user, language="zh-hans")
            client = Client(raise_request_exception=False)
            client.force_login(user)
            found, failed, opened = english_left(client, urls, data)
            left.update({f"[{username}] {page}": lines for page, lines in found.items()})
            errors += [f"[{username}] {page}" for page in failed]
            read += opened
        visitor = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        login = visitor.get(reverse("login"))
        if lines := english_lines(visible_text(login.content.decode()), data):
            left[f"login {reverse('login')}"] = lines
    # then the pages were read, none failed, and none has an English word left
    assert read >= 120, f"only {read} pages read"
    assert (left, errors) == ({}, []), ("English left on zh-hans pages:\n" + report(left, data)
                                        + "\npages that failed: " + " ".join(errors))
