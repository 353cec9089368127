"""The payment-date model on the IBM Watson receivables file, split 2013-07-01 (issue 17's target)."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from forecasting.models import InvoiceDisputeFlag
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.reader import table_read
from receivables.importing.services import import_run
from tests.factories import MembershipFactory, OrganizationFactory

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
IBM = DATA / "WA_Fn-UseC_-Accounts-Receivable.csv"
MAPPINGS = Path(settings.BASE_DIR) / "docs" / "mappings"

pytestmark = [pytest.mark.skipif(not DATA.exists(), reason="../shared/data is not here"),
              pytest.mark.django_db(transaction=True)]


def _import(organization, actor, mapping_name):
    mapping = mapping_from_dict(json.loads((MAPPINGS / mapping_name).read_text()))
    with IBM.open("rb") as file:
        table = table_read(file, IBM.name)
    return import_run(organization=organization, actor=actor, kind=mapping.kind, table=table, mapping=mapping)


@pytest.fixture
def ibm_org(transactional_db):
    organization = OrganizationFactory(name="IBM sample", slug="ibm", base_currency="USD", timezone="UTC")
    actor = MembershipFactory(organization=organization, role="admin").user
    for name in ("ibm_watson_invoices.json", "ibm_watson_payments.json"):
        _import(organization, actor, name)
    return organization


def test_ibm_split_2013_07_01_model_beats_the_baseline_by_15_percent_with_auc_over_0_85(ibm_org):
    # given: the file's Disputed column was imported as dispute flags
    assert InvoiceDisputeFlag.objects.filter(organization=ibm_org, disputed=True).count() == 561

    # when
    out = StringIO()
    call_command("payment_model_evaluate", "--organization", "ibm", "--split-date", "2013-07-01", stdout=out)

    # then
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    model_mae, baseline_mae, auc = float(lines["model MAE"]), float(lines["baseline MAE"]), float(lines["late AUC"])
    print(out.getvalue())
    assert int(lines["test invoices"]) == 536
    assert model_mae <= 0.85 * baseline_mae
    assert auc >= 0.85
