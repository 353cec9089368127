"""`manage.py seed_demo [--reset]`: a realistic demo ledger, written through the services.

Two organizations: "Inflow Demo Trading (上海)" (CNY, Asia/Shanghai) with 40 Chinese and
foreign customers and a year of history up to today, and the small "Northwind Components
GmbH" (EUR) that demo-admin also belongs to, to show the switcher and isolation. Every row
goes through receivables.services / tenancy.services, so the audit chain covers it.

Deterministic: a seeded random generator, relative to today in the organization's zone.
Idempotent: when the demo exists it says so and stops; --reset retires the old demo
organizations (renamed, memberships removed: audited history is never deleted) and builds
fresh ones.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from receivables import services
from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Membership, Organization, Role
from tenancy.money import quantize
from tenancy.services import audit_record, membership_set, organization_create, user_language_set

DEMO_SLUG = "demo"
NORTHWIND_SLUG = "northwind"
PASSWORD = "inflow-demo"  # noqa: S105 - a published demo password, printed on purpose
SEED = 20260101
GOOD, SLOW, BAD = "good", "slow", "bad"

# username -> (role in the demo organization, UI language)
DEMO_USERS = {
    "demo-admin": (Role.ADMIN, "en"),
    "demo-credit": (Role.CREDIT_MANAGER, "zh-hans"),
    "demo-collector": (Role.COLLECTOR, "zh-hans"),
    "demo-viewer": (Role.VIEWER, "en"),
    "demo-support": (Role.VIEWER, "en"),  # also support staff: /admin/, view only (SUPPORT_USER)
}
# Support staff (is_staff, not a superuser): opens /admin/ with view permissions only, and sees there only the
# organizations it is a member of (tenancy/admin.py scopes every list), here the demo organization.
SUPPORT_USER = "demo-support"
SUPPORT_GROUP = "Demo support (view only)"
SUPPORT_APPS = ("tenancy", "receivables", "credit", "dunning", "factoring", "insurance", "forecasting")

# name, administrative division code (for the credit code), e-mail domain, segment, payer, monthly net (CNY)
CHINESE_CUSTOMERS = [
    ("上海华东贸易有限公司", "310000", "huadong-trading", "key_account", GOOD, 420_000),
    ("杭州西湖电子科技有限公司", "330100", "xihu-electronics", "strategic", GOOD, 260_000),
    ("深圳南山智能制造有限公司", "440300", "nanshan-smart", "key_account", SLOW, 510_000),
    ("苏州工业园区精密机械有限公司", "320500", "suzhou-precision", "standard", GOOD, 180_000),
    ("北京朝阳医疗器械有限公司", "110000", "chaoyang-medical", "strategic", GOOD, 230_000),
    ("广州天河食品有限公司", "440100", "tianhe-foods", "standard", SLOW, 95_000),
    ("宁波港通物流有限公司", "330200", "gangtong-logistics", "standard", GOOD, 120_000),
    ("成都蜀锦纺织有限公司", "510100", "shujin-textile", "small", BAD, 60_000),
    ("武汉光谷光电有限公司", "420100", "guanggu-optics", "standard", GOOD, 150_000),
    ("天津滨海化工有限公司", "120000", "binhai-chem", "standard", SLOW, 210_000),
    ("南京金陵建材有限公司", "320100", "jinling-building", "standard", BAD, 140_000),
    ("青岛海湾家电有限公司", "370200", "haiwan-appliance", "key_account", GOOD, 380_000),
    ("厦门鹭岛包装材料有限公司", "350200", "ludao-packaging", "small", GOOD, 45_000),
    ("重庆山城汽车配件有限公司", "500000", "shancheng-auto", "standard", SLOW, 170_000),
    ("西安秦川新能源有限公司", "610100", "qinchuan-energy", "strategic", GOOD, 300_000),
    ("无锡太湖环保设备有限公司", "320200", "taihu-enviro", "standard", GOOD, 110_000),
    ("东莞松山湖五金制品有限公司", "441900", "songshanhu-hardware", "small", BAD, 70_000),
    ("合肥庐州软件有限公司", "340100", "luzhou-software", "small", GOOD, 38_000),
    ("长沙湘江工程机械有限公司", "430100", "xiangjiang-machinery", "standard", SLOW, 260_000),
    ("郑州中原粮油有限公司", "410100", "zhongyuan-grain", "standard", GOOD, 90_000),
    ("大连星海船舶配件有限公司", "210200", "xinghai-marine", "standard", SLOW, 130_000),
    ("福州闽江茶业有限公司", "350100", "minjiang-tea", "small", GOOD, 30_000),
    ("昆明滇池花卉有限公司", "530100", "dianchi-flowers", "small", BAD, 25_000),
    ("济南泉城制药有限公司", "370100", "quancheng-pharma", "strategic", GOOD, 280_000),
    ("佛山顺德家具有限公司", "440600", "shunde-furniture", "standard", SLOW, 100_000),
    ("温州瓯江鞋业有限公司", "330300", "oujiang-shoes", "small", GOOD, 55_000),
    ("上海浦江市政工程有限公司", "310000", "pujiang-municipal", "government", SLOW, 350_000),
    ("常州龙城电缆有限公司", "320400", "longcheng-cable", "standard", GOOD, 160_000),
]

# name, country, currency, e-mail domain, segment, payer, monthly net (in its currency)
FOREIGN_CUSTOMERS = [
    ("Pacific Rim Imports LLC", "US", "USD", "pacificrim-imports", "key_account", GOOD, 68_000),
    ("Golden Gate Electronics Inc.", "US", "USD", "goldengate-electronics", "strategic", GOOD, 42_000),
    ("Lone Star Industrial Supply Co.", "US", "USD", "lonestar-supply", "standard", SLOW, 25_000),
    ("Great Lakes Appliance Corp.", "US", "USD", "greatlakes-appliance", "standard", GOOD, 31_000),
    ("Maple Leaf Distribution Ltd.", "CA", "USD", "mapleleaf-distribution", "standard", SLOW, 18_000),
    ("Harborview Retail Group", "US", "USD", "harborview-retail", "small", BAD, 9_000),
    ("Andes Trading S.A.", "CL", "USD", "andes-trading", "small", BAD, 12_000),
    ("Sunbelt Furniture Outlet LLC", "US", "USD", "sunbelt-furniture", "standard", GOOD, 15_000),
    ("Bavaria Maschinenbau GmbH", "DE", "EUR", "bavaria-maschinenbau", "strategic", GOOD, 55_000),
    ("Rotterdam Port Supplies B.V.", "NL", "EUR", "rotterdam-port", "standard", SLOW, 21_000),
    ("Lyon Textiles SARL", "FR", "EUR", "lyon-textiles", "small", GOOD, 8_000),
    ("Milano Design S.r.l.", "IT", "EUR", "milano-design", "standard", BAD, 14_000),
]

NORTHWIND_CUSTOMERS = [
    ("Hamburger Hafenbedarf GmbH", "DE", "EUR", "hafenbedarf", GOOD, 18_000),
    ("Kölner Kabelwerk AG", "DE", "EUR", "kabelwerk", SLOW, 26_000),
    ("Wiener Feinmechanik GmbH", "AT", "EUR", "feinmechanik", GOOD, 9_500),
    ("Zürich Präzision AG", "CH", "EUR", "praezision", BAD, 7_000),
    ("Boston Robotics Supply Inc.", "US", "USD", "boston-robotics", GOOD, 12_000),
]

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def unified_social_credit_code(division: str, rng: random.Random) -> str:
    """A well-formed 统一社会信用代码 (GB 32100-2015): enterprise, division, organization code, check."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    org_check = 11 - sum(int(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True)) % 11
    org_code = body + {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = "91" + division + org_code
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def foreign_registration_number(country: str, rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    return {
        "US": f"EIN {digits(2)}-{digits(7)}", "CA": f"BN {digits(9)}", "CL": f"RUT {digits(8)}-{digits(1)}",
        "DE": f"HRB {digits(6)}", "AT": f"FN {digits(6)}a", "CH": f"CHE-{digits(3)}.{digits(3)}.{digits(3)}",
        "NL": f"KvK {digits(8)}", "FR": f"SIREN {digits(9)}", "IT": f"IT{digits(11)}",
    }[country]


def months_back(today: dt.date, months: int) -> list[dt.date]:
    """First days of the last `months` months, oldest first, ending with today's month."""
    firsts = [today.replace(day=1)]
    for _ in range(months - 1):
        firsts.append((firsts[-1] - dt.timedelta(days=1)).replace(day=1))
    return list(reversed(firsts))


@dataclass
class Counts:
    customers: int = 0
    invoices: int = 0
    payments: int = 0
    credit_notes: int = 0
    write_offs: int = 0
    voids: int = 0
    fx_rates: int = 0


class DemoBuilder:
    """Builds one organization's history: plans dated events, then runs them in date order."""

    def __init__(self, *, organization: Organization, users: dict, rng: random.Random, vat_percent: int,
                 number_prefix: str):
        self.organization = organization
        self.admin, self.credit, self.collector = users["demo-admin"], users.get("demo-credit"), users.get(
            "demo-collector")
        self.rng = rng
        self.vat_percent = vat_percent
        self.number_prefix = number_prefix
        self.today = local_today(organization.timezone)
        self.events: list[tuple[dt.date, int, Callable[[], None]]] = []
        self.invoices: dict[str, Invoice] = {}
        self.counts = Counts()
        self._serial = 0

    # --- helpers ---------------------------------------------------------------------------

    def _at(self, on: dt.date, order: int, action: Callable[[], None]) -> None:
        if on <= self.today:
            self.events.append((on, order, action))

    def _actor(self, preferred):
        return preferred or self.admin

    def _number(self, prefix: str, on: dt.date) -> str:
        self._serial += 1
        return f"{prefix}-{on:%Y%m}-{self._serial:04d}"

    # --- reference data --------------------------------------------------------------------

    def fx_rates(self, starts: dict[str, Decimal], months: int) -> None:
        for currency, rate in starts.items():
            for first in months_back(self.today, months):
                services.fx_rate_set(organization=self.organization, actor=self._actor(self.credit),
                                     currency=currency, rate_date=first, rate=rate)
                self.counts.fx_rates += 1
                rate = (rate * (1 + Decimal(self.rng.randint(-120, 120)) / 10_000)).quantize(Decimal("0.0001"))

    def customer(self, **fields) -> Customer:
        self.counts.customers += 1
        return services.customer_create(organization=self.organization, actor=self._actor(self.credit), **fields)

    # --- history ---------------------------------------------------------------------------

    def monthly_invoices(self, customer: Customer, *, payer: str, monthly_net: int, months: int) -> None:
        day = self.rng.randint(1, 28)
        for first in months_back(self.today, months):
            issue = first.replace(day=day)
            net = quantize(Decimal(monthly_net) * Decimal(self.rng.randint(70, 130)) / 100, customer.currency)
            vat = self.vat_percent if customer.country == self.organization_country() else 0
            tax = quantize(net * vat / 100, customer.currency)
            number = self._number(self.number_prefix, issue)
            self._at(issue, 1, self._invoice_action(customer, number, issue, net, tax))
            self._settlement(customer, number, issue + dt.timedelta(days=customer.payment_terms_days), payer)

    def organization_country(self) -> str:
        return {"CNY": "CN", "EUR": "DE"}.get(self.organization.base_currency, "")

    def _invoice_action(self, customer, number, issue, net, tax) -> Callable[[], None]:
        def action() -> None:
            self.invoices[number] = services.invoice_create(
                organization=self.organization, actor=None, customer=customer, number=number, issue_date=issue,
                net_amount=net, tax_amount=tax, po_reference=f"PO-{issue:%y%m}-{customer.pk:03d}",
                description="货物销售" if customer.language == "zh-hans" else "Goods as per purchase order",
            )
            self.counts.invoices += 1
        return action

    def _settlement(self, customer: Customer, number: str, due: dt.date, payer: str) -> None:
        """Plan how (and whether) the invoice gets paid, by the customer's payment behaviour."""
        rng = self.rng
        if rng.random() < 0.05:  # quality claims and price adjustments
            issued = due - dt.timedelta(days=rng.randint(5, 20))
            self._at(issued, 2, self._credit_note_action(customer, number, issued))
        if payer == GOOD:
            self._payment(customer, number, due + dt.timedelta(days=rng.randint(-6, 2)), 100)
        elif payer == SLOW:
            self._payment(customer, number, due + dt.timedelta(days=rng.randint(30, 60)), 100)
        elif rng.random() < 0.6:  # bad payers pay part, late, and sometimes nothing at all
            self._payment(customer, number, due + dt.timedelta(days=rng.randint(45, 90)), rng.randint(30, 60))

    def _credit_note_action(self, customer, number, issued: dt.date) -> Callable[[], None]:
        def action() -> None:
            invoice = self.invoices[number]
            amount = quantize(invoice.total_amount * Decimal(self.rng.randint(2, 8)) / 100, invoice.currency)
            services.credit_note_create(
                organization=self.organization, actor=self._actor(self.collector), customer=customer,
                number=self._number("CN", issued), issued_on=issued, amount=amount, invoice=invoice,
                reason="质量折让" if customer.language == "zh-hans" else "Price adjustment for damaged goods",
            )
            self.counts.credit_notes += 1
        return action

    def _payment(self, customer, number, on: dt.date, percent: int) -> None:
        def action() -> None:
            invoice = self.invoices[number]
            invoice.refresh_from_db()
            balance = invoice.total_amount - invoice.applied_amount
            if balance <= 0 or invoice.voided_on is not None:
                return
            amount = balance if percent == 100 else quantize(balance * percent / 100, invoice.currency)
            # Every third foreign invoice is paid in the base currency (a CNY receipt for a USD invoice) at the
            # bank's rate, 0.2% under the day's stored rate: a cross-currency receipt with its realized difference.
            cross = self._base_currency_receipt(invoice, amount, on) if invoice.pk % 3 == 0 else None
            payment = services.payment_record(
                organization=self.organization, actor=self._actor(self.collector), customer=customer,
                received_on=on, amount=cross or amount, currency=self.organization.base_currency if cross else None,
                method=self._method(customer), reference=f"TT{on:%Y%m%d}{invoice.pk:05d}", auto_allocate=False,
            )
            line = (invoice, amount, services.Conversion(payment_amount=cross)) if cross else (invoice, amount)
            services.payment_allocate(organization=self.organization, actor=self._actor(self.collector),
                                      payment=payment, allocations=[line])
            self.counts.payments += 1
        self._at(on, 3, action)

    def _base_currency_receipt(self, invoice: Invoice, amount: Decimal, on: dt.date) -> Decimal | None:
        """What a receipt in the base currency for `amount` of a foreign invoice is at the bank's rate."""
        base = self.organization.base_currency
        if invoice.currency == base:
            return None
        from receivables.selectors import FxTable

        try:
            rate = FxTable.load(self.organization, {invoice.currency}, on).rate(invoice.currency, on)
        except DomainError:
            return None
        return quantize(amount * rate * Decimal("0.998"), base)

    def _method(self, customer: Customer) -> str:
        if customer.currency == "CNY" and self.rng.random() < 0.25:
            return "bank_acceptance"
        return "bank_transfer"

    def run(self) -> Counts:
        """Run the planned events oldest first; on one day, invoices before credits before cash."""
        for _on, _order, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            action()
        return self.counts

    # --- one-off events after the history ------------------------------------------------------

    def write_off_oldest(self, customer: Customer, count: int, reason: str) -> None:
        candidates = (Invoice.objects.filter(organization=self.organization, customer=customer,
                                             voided_on__isnull=True, due_date__lt=self.today - dt.timedelta(days=150))
                      .exclude(status__in=["paid", "written_off"]).order_by("due_date")[:count])
        for invoice in candidates:
            services.invoice_write_off(organization=self.organization, actor=self._actor(self.credit), invoice=invoice,
                                       reason=reason, written_off_on=invoice.due_date + dt.timedelta(days=150))
            self.counts.write_offs += 1

    def void_latest(self, customer: Customer, reason: str) -> None:
        invoice = (Invoice.objects.filter(organization=self.organization, customer=customer, applied_amount=0,
                                          voided_on__isnull=True).order_by("-issue_date").first())
        if invoice is not None:
            services.invoice_void(organization=self.organization, actor=self._actor(self.collector), invoice=invoice,
                                  voided_on=invoice.issue_date + dt.timedelta(days=2), reason=reason)
            self.counts.voids += 1


def demo_users_ensure() -> dict:
    """The four demo users with the published password (reset if they already exist)."""
    user_model = get_user_model()
    hashed = make_password(PASSWORD)  # one slow hash shared by the four users, not four
    users = {}
    for username, (_role, language) in DEMO_USERS.items():
        user, _created = user_model.objects.get_or_create(username=username,
                                                         defaults={"email": f"{username}@inflow.example"})
        user.password = hashed
        user.is_active = True
        user.save()
        user_language_set(user=user, language=language)
        users[username] = user
    demo_support_ensure(users[SUPPORT_USER])
    return users


def demo_support_ensure(user) -> None:
    """Staff status and the view permissions of every Inflow model, through one group (never a superuser)."""
    group, _created = Group.objects.get_or_create(name=SUPPORT_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=SUPPORT_APPS,
                                                    codename__startswith="view_"))
    user.is_staff, user.is_superuser = True, False
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.add(group)


def demo_retire(organization: Organization) -> None:
    """Move an old demo organization out of the way without touching its audited history."""
    before = {"name": organization.name, "slug": organization.slug}
    organization.slug = f"{organization.slug}-retired-{organization.pk}"
    organization.name = f"{organization.name} (retired {timezone.now():%Y-%m-%d %H:%M})"
    organization.save(update_fields=["slug", "name"])
    audit_record(organization=organization, actor=None, action="organization.retired", obj=organization,
                 before=before, after={"name": organization.name, "slug": organization.slug})
    for membership in Membership.objects.filter(organization=organization).select_related("user"):
        audit_record(organization=organization, actor=None, action="membership.removed", obj=membership,
                     before={"user": membership.user.get_username(), "role": membership.role})
        membership.delete()


def demo_organization_build(users: dict, rng: random.Random) -> tuple[Organization, Counts]:
    admin = users["demo-admin"]
    organization = organization_create(
        name="Inflow Demo Trading (上海)", slug=DEMO_SLUG, actor=admin, base_currency="CNY",
        timezone="Asia/Shanghai", default_language="zh-hans", default_payment_terms_days=30,
    )
    for username, (role, _language) in DEMO_USERS.items():
        if role != Role.ADMIN:
            membership_set(organization=organization, actor=admin, user=users[username], role=role)
    builder = DemoBuilder(organization=organization, users=users, rng=rng, vat_percent=13, number_prefix="INV")
    builder.fx_rates({"USD": Decimal("7.1800"), "EUR": Decimal("7.8200")}, months=13)
    customers = {}
    for name, division, domain, segment, payer, monthly in CHINESE_CUSTOMERS:
        customers[name] = customer = builder.customer(
            name=name, legal_name=name, registration_number=unified_social_credit_code(division, rng), country="CN",
            currency="CNY", payment_terms_days=rng.choice([30, 30, 45, 60, 90]), language="zh-hans",
            contact_emails=[f"finance@{domain}.example", f"ap@{domain}.example"], segment=segment,
            contact_name="财务部 应付账款", contact_phone=f"+86 21 6{len(customers):03d} {8000 + len(customers)}",
            external_id=f"ERP-C{len(customers) + 1:04d}",
        )
        builder.monthly_invoices(customer, payer=payer, monthly_net=monthly, months=12)
    for name, country, currency, domain, segment, payer, monthly in FOREIGN_CUSTOMERS:
        customers[name] = customer = builder.customer(
            name=name, legal_name=name, registration_number=foreign_registration_number(country, rng), country=country,
            currency=currency, payment_terms_days=rng.choice([30, 60]), language="en",
            contact_emails=[f"accounts.payable@{domain}.example"], segment=segment,
            contact_name="Accounts Payable", contact_phone=f"+1 415 555 {100 + len(customers):04d}",
            external_id=f"ERP-C{len(customers) + 1:04d}",
        )
        builder.monthly_invoices(customer, payer=payer, monthly_net=monthly, months=12)
    counts = builder.run()
    builder.void_latest(customers["宁波港通物流有限公司"], reason="重复开票 / duplicate invoice")
    for name in ("成都蜀锦纺织有限公司", "Harborview Retail Group", "昆明滇池花卉有限公司"):
        builder.write_off_oldest(customers[name], 1, reason="客户停业，催收无果 / customer ceased trading")
    demo_on_account(builder, customers)
    __import__("credit.demo").demo.credit_demo_seed(organization=organization)  # lazily: credit builds on receivables
    __import__("dunning.demo").demo.dunning_demo_seed(organization=organization)  # lazily: dunning builds on both
    __import__("factoring.demo").demo.factoring_demo_seed(organization=organization)  # lazily: factoring builds on all
    __import__("insurance.demo").demo.insurance_demo_seed(organization=organization)  # lazily: insurance builds on all
    __import__("forecasting.demo").demo.forecasting_demo_seed(organization=organization)  # lazily: the top layer
    return organization, counts


def demo_on_account(builder: DemoBuilder, customers: dict) -> None:
    """Cash and credit not yet matched to an invoice: a prepayment and a volume rebate."""
    organization, today = builder.organization, builder.today
    services.payment_record(organization=organization, actor=builder._actor(builder.collector),
                            customer=customers["Pacific Rim Imports LLC"], received_on=today - dt.timedelta(days=3),
                            amount=Decimal("15000.00"), reference="SWIFT-PREPAY-01", auto_allocate=False)
    services.credit_note_create(organization=organization, actor=builder._actor(builder.collector),
                                customer=customers["青岛海湾家电有限公司"], number=f"CN-{today:%Y%m}-REBATE",
                                issued_on=today - dt.timedelta(days=5), amount=Decimal("25000.00"),
                                reason="年度返利 / annual volume rebate")
    builder.counts.payments += 1
    builder.counts.credit_notes += 1


def northwind_build(users: dict, rng: random.Random) -> tuple[Organization, Counts]:
    admin = users["demo-admin"]
    organization = organization_create(
        name="Northwind Components GmbH", slug=NORTHWIND_SLUG, actor=admin, base_currency="EUR",
        timezone="Europe/Berlin", default_language="en", default_payment_terms_days=30,
    )
    builder = DemoBuilder(organization=organization, users={"demo-admin": admin}, rng=rng, vat_percent=19,
                          number_prefix="RE")
    builder.fx_rates({"USD": Decimal("0.9200")}, months=4)
    for name, country, currency, domain, payer, monthly in NORTHWIND_CUSTOMERS:
        customer = builder.customer(
            name=name, legal_name=name, registration_number=foreign_registration_number(country, rng), country=country,
            currency=currency, payment_terms_days=30, language="en", contact_emails=[f"buchhaltung@{domain}.example"],
        )
        builder.monthly_invoices(customer, payer=payer, monthly_net=monthly, months=4)
    return organization, builder.run()


class Command(BaseCommand):
    help = "Create the demo organizations, users and a year of receivables history (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="retire the existing demo organizations (history is kept) and build fresh ones")

    def handle(self, *args, reset: bool = False, **options):
        existing = list(Organization.objects.filter(slug__in=[DEMO_SLUG, NORTHWIND_SLUG]))
        if existing and not reset:
            self.stdout.write(f"The demo data already exists ({', '.join(o.name for o in existing)}); "
                              "nothing done. Run with --reset to rebuild it.")
            self.logins_print()
            return
        rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not a secret
        with transaction.atomic():
            for organization in existing:
                demo_retire(organization)
            users = demo_users_ensure()
            demo, demo_counts = demo_organization_build(users, rng)
            northwind, northwind_counts = northwind_build(users, rng)
        for organization, counts in ((demo, demo_counts), (northwind, northwind_counts)):
            self.stdout.write(
                f"{organization.name}: {counts.customers} customers, {counts.invoices} invoices, "
                f"{counts.payments} payments, {counts.credit_notes} credit notes, {counts.write_offs} write-offs, "
                f"{counts.voids} voided, {counts.fx_rates} FX rates")
        self.logins_print()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def logins_print(self) -> None:
        """The demo sign-ins, each with the language its pages start in (make run shows them every time)."""
        self.stdout.write(f"Demo users (password: {PASSWORD}):")
        for username, (role, language) in DEMO_USERS.items():
            extra = (" (also admin of Northwind Components GmbH)" if role == Role.ADMIN
                     else " + support staff: /admin/, view only" if username == SUPPORT_USER else "")
            self.stdout.write(f"  {username:<15} {language:<8} {role.label}{extra}")
