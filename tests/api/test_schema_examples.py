"""Every write operation in the OpenAPI schema shows a request example, and every example works:
sent as written (ids swapped for the test's own rows) it gets a 2xx from the API."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from credit import services as credit_services
from credit.models import CreditAlert, CreditProfile
from dunning import services as dunning_services
from dunning.models import DunningMessage, Source
from factoring import services as factoring_services
from forecasting import services as forecasting_services
from insurance import services as insurance_services
from receivables import services
from tenancy.api.pagination import EXAMPLE_CURSOR
from tests.api.conftest import key_client
from tests.factories import PASSWORD, CustomerFactory, make_invoice, make_payment
from tests.factoring.conftest import facility_make
from tests.insurance.conftest import POLICY_TERMS, grant_cover

pytestmark = pytest.mark.django_db

# Noon in Shanghai: the examples' dates (issued, received, written off) are on or before it,
# promised and resolve-by dates after it.
NOW = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        from drf_spectacular.generators import SchemaGenerator

        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _request_examples(schema) -> dict[tuple[str, str], dict]:
    examples = {}
    for path, method, operation in _operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        for name, example in body.get("examples", {}).items():
            examples[(method.upper(), path, name)] = example["value"]
    return examples


def test_every_request_body_has_an_example(schema):
    missing = []
    for path, method, operation in _operations(schema):
        if "requestBody" not in operation:
            continue
        content = operation["requestBody"]["content"]
        assert set(content) >= {"application/json"}, (method, path)
        if not content["application/json"].get("examples"):
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_request_examples_are_request_only(schema):
    # A request example shown as a response would document a body the API never returns.
    request_values = [json.dumps(value, sort_keys=True) for value in _request_examples(schema).values()]
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            for body in response.get("content", {}).values():
                for example in body.get("examples", {}).values():
                    assert json.dumps(example["value"], sort_keys=True) not in request_values, (method, path, status)


def test_every_response_has_an_example(schema):
    missing = []
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            body = response.get("content", {}).get("application/json")
            if body is not None and not body.get("examples"):
                missing.append(f"{method.upper()} {path} {status}")
    assert missing == []


# --- every request example, sent as written ----------------------------------------------------


@pytest.fixture
def world(organization, credit_manager, admin_user):
    """What the examples refer to: a Chinese customer C-1001 (CNY) with two open invoices (the
    examples' invoices 42 and 43), unapplied cash, an unapplied credit note, an open dispute, a
    credit file and a limit request waiting for the credit manager; and a foreign customer C-2001
    (USD) with a partly written-off invoice."""
    with time_machine.travel(NOW, tick=False):
        huadong = CustomerFactory(organization=organization, external_id="C-1001", name="上海华东贸易有限公司",
                                  currency="CNY", language="zh-hans", payment_terms_days=30)
        northwind = CustomerFactory(organization=organization, external_id="C-2001", name="Northwind Traders",
                                    currency="USD", language="en", payment_terms_days=45)
        inv42 = make_invoice(organization, huadong, number="INV-2026-0031", external_id="SAP-90000031",
                             amount="1000.00", tax_amount=Decimal("130.00"), issue_date=dt.date(2026, 3, 1),
                             due_date=dt.date(2026, 3, 31))
        inv43 = make_invoice(organization, huadong, number="INV-2026-0032", external_id="SAP-90000032",
                             amount="1212.39", tax_amount=Decimal("157.61"), issue_date=dt.date(2026, 3, 2))
        usd = make_invoice(organization, northwind, number="INV-2026-0012", external_id="SAP-90000012",
                           amount="2500.00", currency="USD", issue_date=dt.date(2026, 1, 15))
        write_off = services.invoice_write_off(organization=organization, actor=None, invoice=usd,
                                               amount=Decimal("50.00"), reason="Bank charges",
                                               written_off_on=dt.date(2026, 3, 20))
        payment = make_payment(organization, huadong, amount="2000.00", received_on=dt.date(2026, 3, 10),
                               external_id="BANK-2026-03-10-007", auto_allocate=False)
        credit_note = services.credit_note_create(organization=organization, actor=None, customer=huadong,
                                                  number="CN-2026-0005", external_id="SAP-CN-7000005",
                                                  issued_on=dt.date(2026, 3, 20), amount=Decimal("226.00"))
        dispute = dunning_services.dispute_open(organization=organization, actor=None, source=Source.API,
                                                invoice=inv42, reason="quantity", amount=Decimal("300.00"),
                                                description="Two pallets short.")
        credit_services.profile_update(organization=organization, actor=None, customer=huadong,
                                       uscc="91440300708461136T")
        limit_request = credit_services.limit_request_create(
            organization=organization, actor=None, customer=huadong, requested_limit=Decimal("50000.00"),
            requested_terms_days=45, reason="Volume up after the new contract.")
    profile = CreditProfile.objects.get(organization=organization, customer=huadong)
    with time_machine.travel(NOW, tick=False):
        # For the unapply example: invoice 44 (500.00 CNY) with 300.00 of a second payment on it.
        inv44 = make_invoice(organization, huadong, number="INV-2026-0077", amount="500.00",
                             issue_date=dt.date(2026, 3, 3))
        applied_payment = make_payment(organization, huadong, amount="300.00", received_on=dt.date(2026, 3, 12),
                                       auto_allocate=False)
        services.payment_allocate(organization=organization, actor=None, payment=applied_payment,
                                  allocations=[(inv44, Decimal("300.00"))])
    insured, factored = _insured_world(organization), _factoring_world(organization)
    return {"customer": huadong, "foreign": northwind, "invoices": {42: inv42, 43: inv43, 44: inv44,
                                                                    **insured.pop("invoices"),
                                                                    **factored.pop("invoices")},
            "payment": payment, "applied_payment": applied_payment,
            "credit_note": credit_note, "dispute": dispute, "profile": profile, "limit_request": limit_request,
            "write_off": write_off, "credit_manager": credit_manager, "admin": admin_user, **insured, **factored}


def _factoring_world(organization) -> dict:
    """Factoring: HSBC's facility (85% advance, 1.25% fee, admin approval above CNY 50,000.00) and a buyer C-4001
    with invoices due 30 May (61-65); assignments of 62 (draft), 63 (80,000.00, waiting for an admin), 64
    (submitted) and 65 (funded)."""
    with time_machine.travel(NOW, tick=False):
        facility = facility_make(organization, approval_threshold=Decimal("50000"))
        buyer = CustomerFactory(organization=organization, external_id="C-4001", name="深圳电子元件有限公司",
                                currency="CNY", language="zh-hans", payment_terms_days=90)
        invoices = {n: make_invoice(organization, buyer, number=f"INV-2026-00{n}",
                                    amount="80000.00" if n == 63 else "10000.00",
                                    issue_date=dt.date(2026, 3, 1), due_date=dt.date(2026, 5, 30))
                    for n in range(61, 66)}
        assignments = {n: factoring_services.assignment_create(organization=organization, actor=None,
                                                               facility=facility, invoices=[invoices[n]],
                                                               assigned_on=NOW.date())
                       for n in (62, 63, 64, 65)}
        for n in (63, 64, 65):
            factoring_services.assignment_submit(organization=organization, actor=None, assignment=assignments[n])
        factoring_services.assignment_fund(organization=organization, actor=None, assignment=assignments[65],
                                           funded_on=NOW.date(), amount_received=Decimal("8375.00"))
    return {"facility": facility, "factored": buyer, "invoices": invoices, "assignment_draft": assignments[62],
            "assignment_waiting": assignments[63], "assignment_submitted": assignments[64],
            "assignment": assignments[65]}


def _insured_world(organization) -> dict:
    """Insurance: the 2026 policy, a buyer C-3001 with CNY 200,000.00 of cover and six invoices of 20,000.00 due
    1 February (51-56), 51-55 declared overdue; claims on 52 (draft), 53 (filed), 54 (accepted), 55 (paid); an
    increase of the buyer's cover waiting for the insurer."""
    with time_machine.travel(NOW, tick=False):
        policy = insurance_services.policy_create(organization=organization, actor=None, **POLICY_TERMS)
        buyer = CustomerFactory(organization=organization, external_id="C-3001", name="武汉光学有限公司",
                                currency="CNY", language="zh-hans", country="CN", payment_terms_days=30)
        grant_cover(organization, policy, buyer, "200000.00", on=dt.date(2026, 1, 5))
        invoices = {n: make_invoice(organization, buyer, number=f"INV-2026-00{n}", amount="20000.00",
                                    issue_date=dt.date(2026, 1, 2), due_date=dt.date(2026, 2, 1))
                    for n in range(51, 57)}
        declaration = insurance_services.declaration_create(
            organization=organization, actor=None, policy=policy, customer=buyer, kind="overdue",
            invoices=[invoices[n] for n in range(51, 56)], notified_on=NOW.date())
        claims = {n: insurance_services.claim_create(organization=organization, actor=None, policy=policy,
                                                     customer=buyer, invoices=[invoices[n]], as_of=NOW.date())
                  for n in (52, 53, 54, 55)}
        for n in (53, 54, 55):
            insurance_services.claim_file(organization=organization, actor=None, claim=claims[n], filed_on=NOW.date())
        for n in (54, 55):
            insurance_services.claim_decide(organization=organization, actor=None, claim=claims[n], accepted=True,
                                            decided_on=NOW.date())
        insurance_services.claim_pay(organization=organization, actor=None, claim=claims[55],
                                     amount=Decimal("17000.00"), paid_on=NOW.date())
        insurance_services.claim_recovery_record(organization=organization, actor=None, claim=claims[55],
                                                 amount=Decimal("2000.00"), received_on=NOW.date(),
                                                 note="Dividend from the liquidator")
        pending = insurance_services.cover_request_create(
            organization=organization, actor=None, policy=policy, customer=buyer, request_type="increase",
            amount=Decimal("250000.00"), requested_on=NOW.date())
    return {"insured": buyer, "policy": policy, "invoices": invoices, "declaration": declaration,
            "cover_request": pending, "claim_draft": claims[52], "claim_filed": claims[53],
            "claim_accepted": claims[54], "claim": claims[55]}


# (method, path) -> the world row its {id} names (an int: the example invoice of that id).
TARGETS = {
    ("PATCH", "/api/v1/customers/{id}/"): "customer",
    ("PATCH", "/api/v1/invoices/{id}/"): 42,
    ("POST", "/api/v1/invoices/{id}/void/"): 43,
    ("POST", "/api/v1/invoices/{id}/write-off/"): 42,
    ("PATCH", "/api/v1/payments/{id}/"): "payment",
    ("POST", "/api/v1/payments/{id}/allocate/"): "payment",
    ("PATCH", "/api/v1/credit-notes/{id}/"): "credit_note",
    ("POST", "/api/v1/credit-notes/{id}/apply/"): "credit_note",
    ("POST", "/api/v1/credit-notes/{id}/reverse/"): "credit_note",
    ("POST", "/api/v1/payments/{id}/reverse/"): "payment",
    ("POST", "/api/v1/payments/{id}/unapply/"): "applied_payment",
    ("POST", "/api/v1/payments/{id}/refund/"): "payment",
    ("POST", "/api/v1/payments/{id}/reassign/"): "payment",
    ("POST", "/api/v1/write-offs/{id}/reverse/"): "write_off",
    ("PATCH", "/api/v1/write-offs/{id}/"): "write_off",
    ("PATCH", "/api/v1/credit-profiles/{id}/"): "profile",
    ("POST", "/api/v1/credit-profiles/{id}/blacklist/"): "profile",
    ("POST", "/api/v1/credit-limit-requests/{id}/approve/"): "limit_request",
    ("POST", "/api/v1/credit-limit-requests/{id}/reject/"): "limit_request",
    ("POST", "/api/v1/disputes/{id}/resolve/"): "dispute",
    ("PATCH", "/api/v1/insurance/policies/{id}/"): "policy",
    ("POST", "/api/v1/insurance/cover-requests/{id}/decide/"): "cover_request",
    ("POST", "/api/v1/insurance/claims/{id}/file/"): "claim_draft",
    ("POST", "/api/v1/insurance/claims/{id}/decide/"): "claim_filed",
    ("POST", "/api/v1/insurance/claims/{id}/pay/"): "claim_accepted",
    ("POST", "/api/v1/insurance/claims/{id}/recoveries/"): "claim",
    ("PATCH", "/api/v1/factoring/facilities/{id}/"): "facility",
    ("POST", "/api/v1/factoring/facilities/{id}/sublimits/"): "facility",
    ("POST", "/api/v1/factoring/facilities/{id}/statements/"): "facility",
    ("POST", "/api/v1/factoring/assignments/{id}/fund/"): "assignment_submitted",
    ("POST", "/api/v1/factoring/assignments/{id}/repurchase/"): "assignment",
}
# C-1001 already has a limit request waiting: a new one is for C-2001.
FOREIGN_CUSTOMER = {("POST", "/api/v1/credit-limit-requests/")}
# Declarations and claims are for the insured buyer C-3001 (its invoices 51-56).
INSURED_CUSTOMER = {("POST", "/api/v1/insurance/declarations/"), ("POST", "/api/v1/insurance/claims/")}
# Limit decisions need a person (session) with the level's role; an API key gets 403.
BY_SESSION = {("POST", "/api/v1/credit-limit-requests/{id}/approve/"),
              ("POST", "/api/v1/credit-limit-requests/{id}/reject/")}

EXAMPLE_OPERATIONS = [
    ("POST", "/api/v1/credit-financials/"), ("POST", "/api/v1/credit-limit-requests/"),
    ("POST", "/api/v1/credit-limit-requests/{id}/approve/"), ("POST", "/api/v1/credit-limit-requests/{id}/reject/"),
    ("POST", "/api/v1/credit-notes/"), ("PATCH", "/api/v1/credit-notes/{id}/"),
    ("POST", "/api/v1/credit-notes/{id}/apply/"), ("POST", "/api/v1/credit-profiles/"),
    ("PATCH", "/api/v1/credit-profiles/{id}/"), ("POST", "/api/v1/credit-profiles/{id}/blacklist/"),
    ("POST", "/api/v1/credit-signals/"), ("POST", "/api/v1/customers/"), ("PATCH", "/api/v1/customers/{id}/"),
    ("POST", "/api/v1/customers/bulk/"), ("POST", "/api/v1/disputes/"), ("POST", "/api/v1/disputes/{id}/resolve/"),
    ("POST", "/api/v1/invoices/"), ("PATCH", "/api/v1/invoices/{id}/"), ("POST", "/api/v1/invoices/{id}/void/"),
    ("POST", "/api/v1/invoices/{id}/write-off/"), ("POST", "/api/v1/invoices/bulk/"),
    ("POST", "/api/v1/payment-plans/"), ("POST", "/api/v1/payments/"), ("PATCH", "/api/v1/payments/{id}/"),
    ("POST", "/api/v1/payments/{id}/allocate/"), ("POST", "/api/v1/payments/bulk/"), ("POST", "/api/v1/promises/"),
    ("POST", "/api/v1/write-offs/"), ("PATCH", "/api/v1/write-offs/{id}/"),
    ("POST", "/api/v1/credit-notes/{id}/reverse/"), ("POST", "/api/v1/payments/{id}/reverse/"),
    ("POST", "/api/v1/payments/{id}/unapply/"), ("POST", "/api/v1/payments/{id}/refund/"),
    ("POST", "/api/v1/payments/{id}/reassign/"), ("POST", "/api/v1/write-offs/{id}/reverse/"),
    ("POST", "/api/v1/insurance/policies/"), ("PATCH", "/api/v1/insurance/policies/{id}/"),
    ("POST", "/api/v1/insurance/cover-requests/"), ("POST", "/api/v1/insurance/cover-requests/{id}/decide/"),
    ("POST", "/api/v1/insurance/declarations/"), ("POST", "/api/v1/insurance/claims/"),
    ("POST", "/api/v1/insurance/claims/{id}/file/"), ("POST", "/api/v1/insurance/claims/{id}/decide/"),
    ("POST", "/api/v1/insurance/claims/{id}/pay/"), ("POST", "/api/v1/insurance/claims/{id}/recoveries/"),
    ("POST", "/api/v1/factoring/facilities/"), ("PATCH", "/api/v1/factoring/facilities/{id}/"),
    ("POST", "/api/v1/factoring/facilities/{id}/sublimits/"), ("POST", "/api/v1/factoring/facilities/{id}/statements/"),
    ("POST", "/api/v1/factoring/assignments/"), ("POST", "/api/v1/factoring/assignments/{id}/fund/"),
    ("POST", "/api/v1/factoring/assignments/{id}/repurchase/"),
]


def test_the_example_list_is_complete(schema):
    # A new request example joins EXAMPLE_OPERATIONS (and gets a target above if it needs one).
    assert sorted({(method, path) for method, path, _name in _request_examples(schema)}) == sorted(
        EXAMPLE_OPERATIONS)


def _with_ids(value, world, customer):
    """The example with its placeholder ids (customer 7 or 42, invoices 42 and 43) made the world's."""
    if isinstance(value, list):
        return [_with_ids(item, world, customer) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        if key == "customer":
            result[key] = customer.pk
        elif key in ("policy", "facility"):
            result[key] = world[key].pk
        elif key == "invoice" and item is not None:
            result[key] = world["invoices"][item].pk
        elif key == "invoices":
            result[key] = [world["invoices"][number].pk for number in item]
        else:
            result[key] = _with_ids(item, world, customer)
    return result


def _send_examples(schema, world, organization, method, path) -> list[tuple[str, dict, object]]:
    """Every request example of the operation, sent as written (ids made the world's): (name, body, response)."""
    examples = {name: value for (m, p, name), value in _request_examples(schema).items() if (m, p) == (method, path)}
    assert examples, (method, path)
    target = TARGETS.get((method, path))
    if (method, path) in BY_SESSION:
        client = APIClient()
        assert client.login(username=world["credit_manager"].username, password=PASSWORD)
    else:
        client = key_client(organization)
    customer = world["foreign"] if (method, path) in FOREIGN_CUSTOMER else world["customer"]
    customer = world["insured"] if (method, path) in INSURED_CUSTOMER else customer
    sent = []
    for name, value in examples.items():
        body = _with_ids(value, world, customer)
        url = path
        if target is not None:
            row = world["invoices"][target] if isinstance(target, int) else world[target]
            url = path.replace("{id}", str(row.pk))
        headers = {}
        if method == "PATCH":
            with time_machine.travel(NOW, tick=False):
                read = client.get(url)
            assert read.status_code == 200, read.content[:300]
            headers["HTTP_IF_MATCH"] = read.headers["ETag"]
        with time_machine.travel(NOW, tick=False):
            response = getattr(client, method.lower())(url, body, format="json", **headers)
        sent.append((name, body, response))
    return sent


@pytest.mark.parametrize(("method", "path"), EXAMPLE_OPERATIONS)
def test_request_example_is_accepted(schema, world, organization, method, path):
    for name, body, response in _send_examples(schema, world, organization, method, path):
        assert 200 <= response.status_code < 300, (method, path, name, response.status_code, response.content[:500])
        if method == "PATCH":  # a correction comes back as sent
            returned = response.json()
            for key, sent in body.items():
                assert _same(returned[key], sent), (method, path, key, returned[key], sent)


def _same(returned, sent) -> bool:
    if isinstance(sent, str) and isinstance(returned, str) and sent.replace(".", "").isdigit():
        return Decimal(returned) == Decimal(sent)
    return returned == sent


# --- every success response example, against a real response ----------------------------------


def _response_examples(operation, status: int) -> dict[str, object]:
    body = operation["responses"].get(str(status), {}).get("content", {}).get("application/json", {})
    return {name: example["value"] for name, example in body.get("examples", {}).items()}


def _key_drift(example, real, where: str = "$") -> list[str]:
    """Where the example's keys differ from the real response's: objects key by key, lists by their
    first item (values are not compared; a null or empty real value has no keys to compare)."""
    if real is None or real == [] or real == {}:
        return []
    if isinstance(example, dict) != isinstance(real, dict) or isinstance(example, list) != isinstance(real, list):
        return [f"{where}: example {type(example).__name__}, response {type(real).__name__}"]
    if isinstance(example, list):
        return _key_drift(example[0], real[0], f"{where}[0]") if example else [f"{where}: example list is empty"]
    if not isinstance(example, dict):
        return []
    problems = []
    if set(example) != set(real):
        problems.append(f"{where}: example lacks {sorted(set(real) - set(example))}, "
                        f"has extra {sorted(set(example) - set(real))}")
    for key in sorted(set(example) & set(real)):
        problems += _key_drift(example[key], real[key], f"{where}.{key}")
    return problems


def _assert_matches_examples(schema, method: str, path: str, response) -> None:
    examples = _response_examples(schema["paths"][path][method.lower()], response.status_code)
    assert examples, (method, path, response.status_code, "no response example")
    real = response.json()
    for name, example in examples.items():
        assert _key_drift(example, real) == [], (method, path, response.status_code, name)


# Writes that answer 201 Created (every other write answers 200).
CREATED = {
    ("POST", "/api/v1/credit-financials/"), ("POST", "/api/v1/credit-limit-requests/"), ("POST", "/api/v1/credit-notes/"),
    ("POST", "/api/v1/credit-signals/"), ("POST", "/api/v1/customers/"), ("POST", "/api/v1/disputes/"),
    ("POST", "/api/v1/invoices/"), ("POST", "/api/v1/invoices/{id}/write-off/"), ("POST", "/api/v1/payment-plans/"),
    ("POST", "/api/v1/payments/"), ("POST", "/api/v1/promises/"), ("POST", "/api/v1/write-offs/"),
    ("POST", "/api/v1/insurance/policies/"), ("POST", "/api/v1/insurance/cover-requests/"),
    ("POST", "/api/v1/insurance/declarations/"), ("POST", "/api/v1/insurance/claims/"),
    ("POST", "/api/v1/factoring/facilities/"), ("POST", "/api/v1/factoring/facilities/{id}/statements/"),
    ("POST", "/api/v1/factoring/assignments/"),
}
# Success responses no request example reaches: a new credit file (the world's customer has one) and a score.
OTHER_WRITES = [("POST", "/api/v1/credit-profiles/", 201), ("POST", "/api/v1/credit-profiles/{id}/score/", 201),
                ("POST", "/api/v1/factoring/assignments/{id}/submit/", 200),
                ("POST", "/api/v1/factoring/assignments/{id}/approve/", 200),
                ("POST", "/api/v1/factoring/assignments/{id}/cancel/", 200)]


@pytest.fixture
def full_world(world, organization):
    """The world, plus what only reads show: a USD rate for the reports, the payment applied to invoice 43, a dunning message, a
    financial statement, a litigation signal and its alert, a score, a promise and a payment plan."""
    customer, invoices = world["customer"], world["invoices"]
    with time_machine.travel(NOW, tick=False):
        services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2025, 1, 1),
                             rate=Decimal("7.1000"))
        dunning_services.dunning_run(organization=organization, actor=None)
        services.payment_allocate(organization=organization, actor=None, payment=world["payment"],
                                  allocations=[(invoices[43], Decimal("500.00"))])
        statement = credit_services.financial_statement_set(
            organization=organization, actor=None, customer=customer, year=2025,
            **{name: Decimal(value) for name, value in FIGURES_2025.items()})
        signal = credit_services.signal_record(organization=organization, actor=None, customer=customer,
                                               kind="litigation", severity="high", observed_on=dt.date(2026, 3, 18),
                                               description="Sued by a supplier for 2.4 million CNY unpaid.")
        score = credit_services.customer_score(organization=organization, customer=customer)
        promise = dunning_services.promise_create(organization=organization, actor=None, customer=customer,
                                                  invoices=[invoices[43]], amount=Decimal("870.00"),
                                                  promised_date=dt.date(2026, 4, 15))
        usd = world["write_off"].invoice
        plan = dunning_services.payment_plan_create(
            organization=organization, actor=None, customer=world["foreign"], invoices=[usd],
            installments=[(dt.date(2026, 4, 30), Decimal("1225.00")), (dt.date(2026, 5, 31), Decimal("1225.00"))])
        forecasting_services.predictions_refresh(organization=organization, as_of=NOW.date())
    return {**world, "financials": statement, "signal": signal, "score": score, "promise": promise, "plan": plan,
            "alert": CreditAlert.objects.get(organization=organization, customer=customer, kind="new_signal"),
            "message": DunningMessage.objects.get(organization=organization, customer=customer)}


FIGURES_2025 = {"revenue": "50000000", "ebit": "4000000", "net_income": "3000000", "current_assets": "20000000",
                "current_liabilities": "12000000", "total_assets": "40000000", "total_liabilities": "22000000",
                "retained_earnings": "9000000", "equity": "18000000"}

# path -> the full world row its {id} or {external_id} names (an int: that example invoice), or None.
READS = {
    "/api/v1/credit-alerts/": None, "/api/v1/credit-alerts/{id}/": "alert",
    "/api/v1/credit-financials/": None, "/api/v1/credit-financials/{id}/": "financials",
    "/api/v1/credit-limit-requests/": None, "/api/v1/credit-limit-requests/{id}/": "limit_request",
    "/api/v1/credit-notes/": None, "/api/v1/credit-notes/{id}/": "credit_note",
    "/api/v1/credit-notes/by-external-id/{external_id}/": "credit_note",
    "/api/v1/credit-profiles/": None, "/api/v1/credit-profiles/{id}/": "profile",
    "/api/v1/credit-scores/": None, "/api/v1/credit-scores/{id}/": "score",
    "/api/v1/credit-signals/": None, "/api/v1/credit-signals/{id}/": "signal",
    "/api/v1/customers/": None, "/api/v1/customers/{id}/": "customer", "/api/v1/customers/{id}/statement/": "customer",
    "/api/v1/customers/by-external-id/{external_id}/": "customer",
    "/api/v1/disputes/": None, "/api/v1/disputes/{id}/": "dispute",
    "/api/v1/dunning-messages/": None, "/api/v1/dunning-messages/{id}/": "message",
    "/api/v1/events/": None,
    "/api/v1/invoices/": None, "/api/v1/invoices/{id}/": 42, "/api/v1/invoices/{id}/allocations/": 43,
    "/api/v1/invoices/by-external-id/{external_id}/": 42,
    "/api/v1/payment-plans/": None, "/api/v1/payment-plans/{id}/": "plan",
    "/api/v1/payments/": None, "/api/v1/payments/{id}/": "payment",
    "/api/v1/payments/by-external-id/{external_id}/": "payment",
    "/api/v1/promises/": None, "/api/v1/promises/{id}/": "promise",
    "/api/v1/reports/aging/": None, "/api/v1/reports/dso/": None, "/api/v1/reports/realized-fx/": None,
    "/api/v1/write-offs/": None, "/api/v1/write-offs/{id}/": "write_off",
    "/api/v1/insurance/policies/": None, "/api/v1/insurance/policies/{id}/": "policy",
    "/api/v1/insurance/cover-requests/": None, "/api/v1/insurance/cover-requests/{id}/": "cover_request",
    "/api/v1/insurance/deadlines/": None,
    "/api/v1/insurance/declarations/": None, "/api/v1/insurance/declarations/{id}/": "declaration",
    "/api/v1/insurance/claims/": None, "/api/v1/insurance/claims/{id}/": "claim",
    "/api/v1/forecast/cash/": None, "/api/v1/forecast/cash/weeks/{week_start}/": None,
    "/api/v1/forecast/accuracy/": None, "/api/v1/forecast/invoices/{id}/": 43,
    "/api/v1/provisions/": None, "/api/v1/provisions/movement/": None,
    "/api/v1/factoring/facilities/": None, "/api/v1/factoring/facilities/{id}/": "facility",
    "/api/v1/factoring/facilities/{id}/eligibility/": "facility",
    "/api/v1/factoring/assignments/": None, "/api/v1/factoring/assignments/{id}/": "assignment",
}
# Reads that need a path value other than an id, or a query.
READ_WEEK = "2026-03-30"  # a week the full world expects invoices in (an empty week would check no line)
READ_QUERIES = {"/api/v1/provisions/movement/": "?date_from=2026-01-01&date_to=2026-03-31"}


def test_the_response_example_list_is_complete(schema):
    # Every success response with an example is checked below, against a response of the same status.
    documented = {(method.upper(), path, status) for path, method, operation in _operations(schema)
                  for status in operation["responses"] if status.startswith("2")
                  and "application/json" in operation["responses"][status].get("content", {})}
    checked = ({("GET", path, "200") for path in READS}
               | {(method, path, "201" if (method, path) in CREATED else "200") for method, path in EXAMPLE_OPERATIONS}
               | {(method, path, str(status)) for method, path, status in OTHER_WRITES})
    assert sorted(checked) == sorted(documented)


@pytest.mark.parametrize("path", list(READS))
def test_read_response_matches_its_example(schema, full_world, organization, path):
    target = READS[path]
    row = full_world["invoices"][target] if isinstance(target, int) else full_world.get(target)
    url = path.replace("{id}", str(getattr(row, "pk", ""))).replace("{external_id}", str(getattr(row, "external_id", "")))
    url = url.replace("{week_start}", READ_WEEK) + READ_QUERIES.get(path, "")
    with time_machine.travel(NOW, tick=False):
        response = key_client(organization).get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, (url, response.content[:300])
    if path.endswith("/") and target is None and "results" in response.json():
        assert response.json()["results"], (path, "an empty page checks nothing")
    _assert_matches_examples(schema, "GET", path, response)


@pytest.mark.parametrize(("method", "path"), EXAMPLE_OPERATIONS)
def test_write_response_matches_its_example(schema, world, organization, method, path):
    for _name, _body, response in _send_examples(schema, world, organization, method, path):
        assert response.status_code == (201 if (method, path) in CREATED else 200), response.content[:300]
        _assert_matches_examples(schema, method, path, response)


def test_new_credit_file_and_score_match_their_examples(schema, world, organization):
    client = key_client(organization)
    with time_machine.travel(NOW, tick=False):
        created = client.post("/api/v1/credit-profiles/", {"customer": world["foreign"].pk, "country": "US"},
                              format="json")
        scored = client.post(f"/api/v1/credit-profiles/{world['profile'].pk}/score/")
    assert (created.status_code, scored.status_code) == (201, 201), (created.content[:300], scored.content[:300])
    _assert_matches_examples(schema, "POST", "/api/v1/credit-profiles/", created)
    _assert_matches_examples(schema, "POST", "/api/v1/credit-profiles/{id}/score/", scored)


def test_assignment_steps_match_their_examples(schema, world, organization):
    # Submit, approve (an admin, by session) and cancel take no body.
    admin = APIClient()
    assert admin.login(username=world["admin"].username, password=PASSWORD)
    client, url = key_client(organization), "/api/v1/factoring/assignments/{id}/"
    with time_machine.travel(NOW, tick=False):
        steps = {"submit/": client.post(url.format(id=world["assignment_draft"].pk) + "submit/"),
                 "approve/": admin.post(url.format(id=world["assignment_waiting"].pk) + "approve/"),
                 "cancel/": client.post(url.format(id=world["assignment_submitted"].pk) + "cancel/")}
    for step, response in steps.items():
        assert response.status_code == 200, (step, response.content[:300])
        _assert_matches_examples(schema, "POST", url + step, response)


def test_the_documented_cursor_is_one_the_api_accepts(organization, world):
    # The page examples' next_cursor is a cursor of the default order: pasted into a real call, it is
    # not refused as invalid (400).
    response = key_client(organization).get(f"/api/v1/invoices/?cursor={EXAMPLE_CURSOR}")
    assert response.status_code == 200, response.content[:300]
    assert set(response.json()) == {"next_cursor", "next", "results"}
