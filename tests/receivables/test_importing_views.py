"""The import pages, driven with the Django test client."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from receivables.importing.tasks import import_run_task
from receivables.models import Customer, ImportJob, ImportMapping, ImportStatus, Invoice
from tests.factories import CustomerFactory, MembershipFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def client_of(client):
    def login(user):
        client.force_login(user)
        return client
    return login


def _upload(client, name="invoices.csv", kind="invoices"):
    """Upload, then run what the upload queued (the background read), as a worker would."""
    file = SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/csv")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("importing:start"), {"kind": kind, "file": file})
    assert response.status_code == 302, response.content.decode()
    return ImportJob.objects.latest("pk")


INVOICE_FORM = {
    "col_external_id": "Doc", "col_number": "Doc", "col_customer_external_id": "Cust",
    "col_customer_name": "Cust name", "col_issue_date": "Issued", "col_due_date": "Due", "col_net_amount": "Net",
    "col_tax_amount": "VAT", "col_description": "Memo", "date_format": "%d/%m/%Y", "decimal_separator": ",",
    "default_currency": "CNY", "column_options": "", "defaults": "",
}


@pytest.fixture
def c001(organization):
    return CustomerFactory(organization=organization, external_id="C-001", name="Shanghai East Trading", currency="CNY")


def test_mapping_step_offers_the_files_columns(organization, collector, client_of):
    client = client_of(collector)
    job = _upload(client)

    response = client.get(reverse("importing:mapping", kwargs={"pk": job.pk}))

    page = response.content.decode()
    assert response.status_code == 200
    for column in ("Doc", "Cust", "Cust name", "Issued", "Due", "Net", "VAT", "Memo"):
        assert f'<option value="{column}">{column}</option>' in page
    assert job.total_rows == 3 and job.status == ImportStatus.PENDING


def test_preview_shows_parsed_values_and_highlights_errors(organization, collector, client_of, c001):
    client = client_of(collector)
    job = _upload(client)
    client.post(reverse("importing:mapping", kwargs={"pk": job.pk}), {**INVOICE_FORM, "date_format": "%m/%d/%Y"})

    page = client.get(reverse("importing:preview", kwargs={"pk": job.pk})).content.decode()

    assert "1234.50" in page  # "1.234,50" as it will be read
    assert "2026-03-01" in page  # 03/01/2026 read as month/day
    assert '<td class="error">31/01/2026<small>&#x27;31/01/2026&#x27; is not a date in the format %m/%d/%Y.</small>' \
        in page


def test_confirm_imports_and_shows_counts(organization, collector, client_of, c001):
    client = client_of(collector)
    job = _upload(client)
    client.post(reverse("importing:mapping", kwargs={"pk": job.pk}), INVOICE_FORM)
    preview = client.get(reverse("importing:preview", kwargs={"pk": job.pk})).content.decode()
    assert "1394.99" not in preview and "1234.50" in preview and "160.49" in preview

    response = client.post(reverse("importing:confirm", kwargs={"pk": job.pk}), follow=True)

    page = response.content.decode()
    assert '<td id="created">3</td>' in page
    assert Invoice.objects.filter(organization=organization).count() == 3
    assert Customer.objects.filter(organization=organization, external_id="C-009").exists()
    status = client.get(reverse("importing:status", kwargs={"pk": job.pk})).json()
    assert status == {"status": "succeeded", "phase": "", "processed_rows": 3, "total_rows": 3, "percent": 100,
                      "finished": True}


def test_failed_import_shows_the_error_table(organization, collector, client_of, c001):
    client = client_of(collector)
    job = _upload(client, "invoices_errors.csv")
    client.post(reverse("importing:mapping", kwargs={"pk": job.pk}), {
        "col_external_id": "Doc", "col_number": "Doc", "col_customer_external_id": "Cust", "col_issue_date": "Issued",
        "col_due_date": "Due", "col_net_amount": "Net", "col_currency": "Currency", "date_format": "%Y-%m-%d",
        "decimal_separator": "."})

    page = client.post(reverse("importing:confirm", kwargs={"pk": job.pk}), follow=True).content.decode()

    assert "9 problems; nothing was imported." in page
    assert "<tr><td>8</td><td>Currency</td><td>Unknown currency &#x27;XYZ&#x27;" in page
    assert not Invoice.objects.filter(organization=organization).exists()


def test_saved_mapping_is_offered_next_time_and_prefills_the_form(organization, collector, client_of):
    client = client_of(collector)
    job = _upload(client)
    client.post(reverse("importing:mapping", kwargs={"pk": job.pk}), {**INVOICE_FORM, "save_as": "ERP export"})
    saved = ImportMapping.objects.get(organization=organization, name="ERP export")
    assert saved.columns["net_amount"] == "Net" and saved.decimal_separator == ","

    second = _upload(client)
    page = client.get(reverse("importing:mapping", kwargs={"pk": second.pk})).content.decode()
    assert f'<option value="{saved.pk}">ERP export</option>' in page
    prefilled = client.get(reverse("importing:mapping", kwargs={"pk": second.pk}), {"saved": saved.pk}).content.decode()
    assert '<option value="Net" selected>Net</option>' in prefilled
    assert 'value="%d/%m/%Y"' in prefilled


def test_large_files_run_in_the_background_with_a_progress_bar(organization, collector, client_of, c001, settings,
                                                              django_capture_on_commit_callbacks):
    settings.IMPORT_BACKGROUND_ROWS = 2
    client = client_of(collector)
    job = _upload(client)
    client.post(reverse("importing:mapping", kwargs={"pk": job.pk}), INVOICE_FORM)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("importing:confirm", kwargs={"pk": job.pk}), follow=True)
    assert '<progress id="import-progress" max="100" value="0">' in response.content.decode()
    assert client.get(reverse("importing:status", kwargs={"pk": job.pk})).json()["status"] == "pending"

    assert len(queued) == 1  # import_run_task.delay(job.pk), sent once the request's transaction commits
    import_run_task.apply(args=(job.pk,))  # what the worker runs; a second delivery changes nothing
    import_run_task.apply(args=(job.pk,))

    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportStatus.SUCCEEDED, 3)


def test_another_organizations_job_is_not_found(organization, other_organization, collector, client_of):
    rival = MembershipFactory(organization=other_organization, role="admin").user
    theirs = _upload(client_of(rival), "customers.csv", kind="customers")

    client = client_of(collector)
    for name in ("job", "mapping", "preview", "status"):
        assert client.get(reverse(f"importing:{name}", kwargs={"pk": theirs.pk})).status_code == 404
    assert client.post(reverse("importing:confirm", kwargs={"pk": theirs.pk})).status_code == 404


def test_a_viewer_is_refused_with_a_clear_message(organization, viewer, client_of):
    response = client_of(viewer).get(reverse("importing:start"))

    assert response.status_code == 403
    assert "This needs the Collector role in Acme Trading." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("importing:start"))
    assert response.status_code == 302 and "/login/" in response["Location"]
