"""factory_boy factories. Ledger rows (invoices, payments...) are made through the services
(`make_invoice` etc.), so tests never build a ledger state the services could not produce."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from receivables import services
from receivables.models import Customer
from tenancy.models import Membership, Organization, Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    base_currency = "CNY"
    timezone = "Asia/Shanghai"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ADMIN


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    currency = "CNY"
    payment_terms_days = 30
    contact_emails = factory.LazyAttribute(lambda c: ["ap@example.com"])


_numbers = iter(range(1, 10**9))


def make_invoice(organization, customer, *, amount="100.00", issue_date=dt.date(2026, 1, 1), due_date=None,
                 number=None, currency=None, **kwargs):
    return services.invoice_create(
        organization=organization, actor=None, customer=customer, number=number or f"INV-{next(_numbers):06d}",
        issue_date=issue_date, due_date=due_date, net_amount=Decimal(amount), currency=currency, **kwargs,
    )


def make_payment(organization, customer, *, amount="100.00", received_on=dt.date(2026, 1, 15), auto_allocate=True,
                 **kwargs):
    return services.payment_record(
        organization=organization, actor=None, customer=customer, received_on=received_on, amount=Decimal(amount),
        auto_allocate=auto_allocate, **kwargs,
    )
