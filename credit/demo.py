"""Credit files for the demo organization (called by `manage.py seed_demo`), written through
credit.services so the audit chain, alerts and events are the real ones.

What a demo credit manager then finds: every customer scored with its breakdown and a score
history, registry data (USCC for Chinese companies), two or three years of accounts for most,
litigation / news / insurer-grade signals, limits approved through the levels, one customer
just under its limit (the next sizeable invoice puts it on hold), one already over it, a
limit increase waiting for the admin, and the alerts all this raised.

Deterministic (a seeded generator over customers in external-id order) and quick on SQLite:
a few hundred service calls, scoring in three passes of the whole portfolio."""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_CEILING, Decimal

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.models import Membership, Organization, Role

from . import selectors, services
from .models import CreditProfile, Ownership, Severity, SignalKind

SEED = 20260601
GOOD, SLOW, BAD = "good", "slow", "bad"
APPROX_FX = {"CNY": Decimal(1), "USD": Decimal("7.18"), "EUR": Decimal("7.82")}
WITHOUT_ACCOUNTS = ("合肥庐州软件有限公司", "昆明滇池花卉有限公司", "Andes Trading S.A.", "Lyon Textiles SARL")
CLOSE_TO_LIMIT = "杭州西湖电子科技有限公司"
OVER_LIMIT = "深圳南山智能制造有限公司"
PENDING_AT_ADMIN = "西安秦川新能源有限公司"
MANUFACTURING_WORDS = ("制造", "机械", "电子", "光电", "化工", "电缆", "制药", "五金", "汽车", "家电", "纺织", "家具",
                       "Maschinenbau", "Electronics", "Appliance", "Industrial", "Textiles")
STATE_OWNED = ("上海浦江市政工程有限公司", "天津滨海化工有限公司")
LISTED = ("青岛海湾家电有限公司", "Golden Gate Electronics Inc.")
SIGNALS = [
    ("成都蜀锦纺织有限公司", SignalKind.LITIGATION, Severity.HIGH, 40,
     "供应商起诉拖欠货款 / sued by a supplier over unpaid goods (CNY 1.2 M)"),
    ("南京金陵建材有限公司", SignalKind.NEGATIVE_NEWS, Severity.MEDIUM, 25,
     "媒体报道工地停工 / press reports building sites halted"),
    ("深圳南山智能制造有限公司", SignalKind.REGISTRY_CHANGE, Severity.LOW, 60,
     "法定代表人变更 / legal representative changed"),
    ("青岛海湾家电有限公司", SignalKind.INSURER_GRADE, Severity.LOW, 15, "中国信保买方评级 BBB / Sinosure buyer grade BBB"),
    ("Milano Design S.r.l.", SignalKind.INSURER_GRADE, Severity.MEDIUM, 20, "Insurer buyer grade lowered to CCC"),
]
PREVIOUS_REVIEW_PASSES = (180, 90)  # days before today: a score history for the chart


def _people(organization: Organization) -> dict[str, object]:
    """The demo's collector (proposes), credit manager and admin (decide)."""
    people = {}
    for membership in Membership.objects.filter(organization=organization).select_related("user").order_by("pk"):
        people.setdefault(membership.role, membership.user)
    return people


def _payers() -> dict[str, tuple[str, int]]:
    """Customer name -> (payment behaviour, monthly sales in its currency), from the seed's table."""
    from receivables.management.commands.seed_demo import CHINESE_CUSTOMERS, FOREIGN_CUSTOMERS

    payers = {row[0]: (row[4], row[5]) for row in CHINESE_CUSTOMERS}
    payers.update({row[0]: (row[5], row[6]) for row in FOREIGN_CUSTOMERS})
    return payers


def _round_up(amount: Decimal, step: int = 50_000) -> Decimal:
    return (amount / step).to_integral_value(ROUND_CEILING) * step


# --- registry data, accounts and signals -------------------------------------------------------

def _registry(customer: Customer, rng: random.Random, today: dt.date) -> dict:
    fields = {"founding_year": today.year - rng.randint(4, 32), "industry": _industry(customer.name),
              "ownership": (Ownership.STATE if customer.name in STATE_OWNED else Ownership.PUBLIC
                            if customer.name in LISTED else Ownership.FOREIGN if customer.country != "CN"
                            else Ownership.PRIVATE),
              "is_manufacturer": any(word in customer.name for word in MANUFACTURING_WORDS)}
    if customer.country == "CN":
        fields["uscc"] = customer.registration_number
    else:
        fields["registry_id"] = customer.registration_number
    return fields


def _industry(name: str) -> str:
    for words, industry in ((("电子", "光电", "Electronics"), "Electronics"), (("机械", "Maschinenbau", "五金"), "Machinery"),
                            (("化工", "制药"), "Chemicals & pharma"), (("食品", "粮油", "茶"), "Food"),
                            (("物流", "港", "Port"), "Logistics"), (("纺织", "Textiles", "鞋"), "Textiles & apparel"),
                            (("建材", "工程"), "Construction")):
        if any(word in name for word in words):
            return industry
    return "Trading & distribution"


def _statement(revenue: Decimal, payer: str) -> dict:
    """One year's accounts shaped by how the customer pays: strong, stretched or distressed."""
    assets = (revenue * Decimal("0.8")).quantize(Decimal(1))
    shape = {GOOD: ("0.45", "0.55", "0.30", "0.25", "0.10"), SLOW: ("0.68", "0.50", "0.46", "0.06", "0.035"),
             BAD: ("0.92", "0.42", "0.62", "-0.08", "-0.03")}[payer]
    liabilities, current_assets, current_liabilities, retained, margin = (Decimal(x) for x in shape)
    ebit = (revenue * margin).quantize(Decimal(1))
    return {"revenue": revenue, "ebit": ebit, "net_income": (ebit * Decimal("0.75")).quantize(Decimal(1)),
            "current_assets": (assets * current_assets).quantize(Decimal(1)),
            "current_liabilities": (assets * current_liabilities).quantize(Decimal(1)),
            "total_assets": assets, "total_liabilities": (assets * liabilities).quantize(Decimal(1)),
            "retained_earnings": (assets * retained).quantize(Decimal(1)),
            "equity": (assets * (1 - liabilities)).quantize(Decimal(1))}


def _credit_files(organization: Organization, customers: list[Customer], people: dict, rng: random.Random,
                  today: dt.date) -> None:
    payers = _payers()
    collector = people.get(Role.COLLECTOR)
    for customer in customers:
        services.profile_update(organization=organization, actor=collector, customer=customer,
                                **_registry(customer, rng, today))
        if customer.name in WITHOUT_ACCOUNTS:
            continue  # too little data: these get a clearly provisional score
        payer, monthly = payers.get(customer.name, (GOOD, 100_000))
        revenue = Decimal(monthly * 12 * rng.randint(15, 40)) * APPROX_FX.get(customer.currency, Decimal(1))
        for back in range(3 if payer == GOOD else 2):
            services.financial_statement_set(organization=organization, actor=collector, customer=customer,
                                             year=today.year - 1 - back,
                                             **_statement((revenue / Decimal("1.08") ** back).quantize(Decimal(1)),
                                                          payer))
    by_name = {c.name: c for c in customers}
    for name, kind, severity, days_ago, description in SIGNALS:
        if name in by_name:
            services.signal_record(organization=organization, actor=collector, customer=by_name[name], kind=kind,
                                   severity=severity, observed_on=today - dt.timedelta(days=days_ago),
                                   description=description)


# --- limits through the approval levels --------------------------------------------------------

def _limit_for(name: str, outstanding: Decimal) -> Decimal:
    if name == CLOSE_TO_LIMIT:
        return _round_up(outstanding + 30_000, 10_000)  # a sizeable invoice tips it over: the hold demo
    if name == OVER_LIMIT:
        return _round_up(outstanding * Decimal("0.8"), 10_000)
    return _round_up(max(outstanding * Decimal("1.6"), Decimal(100_000)))


def _limits(organization: Organization, customers: list[Customer], people: dict, today: dt.date) -> None:
    collector, manager, admin = people.get(Role.COLLECTOR), people.get(Role.CREDIT_MANAGER), people[Role.ADMIN]
    exposure = selectors.exposures(organization, today)
    policy = services.policy_ensure(organization)
    for customer in customers:
        outstanding = exposure[customer.pk].outstanding if customer.pk in exposure else Decimal(0)
        request = services.limit_request_create(
            organization=organization, actor=collector, customer=customer,
            requested_limit=_limit_for(customer.name, outstanding), requested_terms_days=customer.payment_terms_days,
            reason="年度授信 / annual credit line")
        for approver in (manager, admin)[:len(request.levels_required)]:
            services.limit_request_approve(organization=organization, actor=approver, request=request,
                                           comment="按评分核定 / per scorecard")
    waiting = next((c for c in customers if c.name == PENDING_AT_ADMIN), None)
    if waiting is not None:
        request = services.limit_request_create(
            organization=organization, actor=collector, customer=waiting,
            requested_limit=_round_up(policy.manager_approval_limit * Decimal("2.5")),
            requested_terms_days=waiting.payment_terms_days, reason="新签三年框架协议，采购量翻倍 / new 3-year framework "
                                                                    "agreement doubles volumes")
        services.limit_request_approve(organization=organization, actor=manager, request=request,
                                       comment="评分B级，同意报管理员审批 / grade fine, over to admin")


def credit_demo_seed(*, organization: Organization) -> dict[str, int]:
    """Credit files, scores, limits, a pending approval and alerts for the demo's customers."""
    today = local_today(organization.timezone)
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not a secret
    people = _people(organization)
    customers = list(Customer.objects.filter(organization=organization).order_by("external_id", "pk"))
    _credit_files(organization, customers, people, rng, today)
    for days in PREVIOUS_REVIEW_PASSES:
        services.scores_run(organization=organization, as_of=today - dt.timedelta(days=days))
    services.scores_run(organization=organization, as_of=today)
    _limits(organization, customers, people, today)
    scores = services.scores_run(organization=organization, as_of=today)  # now with exposure against the limits
    for customer in customers[:3]:
        services.review_schedule(organization=organization, actor=people.get(Role.CREDIT_MANAGER), customer=customer,
                                 on=today + dt.timedelta(days=10 + customers.index(customer) * 5))
    alerts = services.alerts_scan(organization=organization, as_of=today)
    return {"profiles": CreditProfile.objects.filter(organization=organization).count(), "scores": len(scores),
            "alerts": len(alerts)}
