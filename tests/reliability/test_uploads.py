"""Uploads (credit documents, import files) are never served at /media/, not even under DEBUG; they
are stored under random names and handed out only by a view that checks the organization."""

from __future__ import annotations

import importlib

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import clear_url_caches, reverse

from credit.services import document_attach
from receivables.importing.services import import_job_create
from tests.factories import CustomerFactory


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    yield tmp_path


@pytest.fixture
def debug_urls():
    """The URLconf as DEBUG builds it (static file serving was added under DEBUG)."""
    import config.urls

    with override_settings(DEBUG=True):
        importlib.reload(config.urls)
        clear_url_caches()
        yield
    importlib.reload(config.urls)
    clear_url_caches()


def _document(organization, admin_user, customer):
    return document_attach(organization=organization, actor=admin_user, customer=customer, title="Audited accounts 2025",
                           file=ContentFile(b"%PDF-1.4 secret accounts", name="accounts-2025.pdf"))


def test_stored_names_are_random_and_keep_only_the_extension(media, organization, admin_user, customer):
    first = _document(organization, admin_user, customer)
    second = _document(organization, admin_user, customer)
    name = first.file.name.rsplit("/", 1)[-1]
    assert name.endswith(".pdf") and "accounts" not in name and len(name) >= 32
    assert first.file.name != second.file.name


def test_uploads_have_no_public_url_even_under_debug(media, debug_urls, client, organization, admin_user, customer):
    document = _document(organization, admin_user, customer)
    job = import_job_create(organization=organization, actor=admin_user, kind="customers",
                        file=ContentFile(b"external_id,name\nC1,Acme\n"), file_name="customers.csv")
    for stored in (document.file.name, job.file.name):
        assert (media / stored).exists()
        # anyone, signed in or not
        assert client.get(f"/media/{stored}").status_code == 404
        client.force_login(admin_user)
        assert client.get(f"/media/{stored}").status_code == 404
        client.logout()


def test_a_document_is_served_to_its_organization_only(media, client, organization, other_organization, admin_user,
                                                       customer, user_factory):
    from tests.factories import MembershipFactory

    document = _document(organization, admin_user, customer)
    url = reverse("credit:customer_document", args=[customer.pk, document.pk])
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 secret accounts"
    assert 'filename="Audited accounts 2025.pdf"' in response["Content-Disposition"]
    rival = MembershipFactory(organization=other_organization).user
    client.force_login(rival)
    assert client.get(url).status_code == 404
    CustomerFactory(organization=other_organization)
    assert client.get(url).status_code == 404
