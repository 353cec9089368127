"""Plain-text parts of dunning mail are not HTML: a name with & or < reaches the subject as typed."""

import datetime as dt

import pytest
from django.core import mail

from dunning import services
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

NAME = "Smith & Sons <HK>"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.parametrize(("language", "subject"), [
    ("en", f"{NAME}: payment reminder"),
    ("zh-hans", f"{NAME}：付款提醒"),
])
def test_notice_subject_keeps_an_ampersand_and_angle_brackets(
        organization, language, subject, django_capture_on_commit_callbacks):
    organization.name = NAME
    organization.save(update_fields=["name"])
    customer = CustomerFactory(organization=organization, name="Jones & Co", language=language,
                               contact_emails=["ap@jones.example"])
    make_invoice(organization, customer, amount="120.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 3))

    with travel(dt.date(2026, 3, 4), organization.timezone), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)

    [sent] = mail.outbox
    assert sent.subject == subject
    assert "&amp;" not in sent.body and "&lt;" not in sent.body
