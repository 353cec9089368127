"""Dunning in the Django admin: scoped to the staff user's organizations, evidence read-only,
policy terms changed through the audited service."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from dunning import services
from dunning.models import DunningMessage, DunningPolicy
from tenancy.models import AuditEntry
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(organization, other_organization, english):
    ours = make_invoice(organization, english, number="OURS-1", amount="100.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 2, 1))
    rival = CustomerFactory(organization=other_organization, name="Their Customer", currency="USD",
                            contact_emails=["ap@their.example"])
    theirs = make_invoice(other_organization, rival, number="THEIRS-1", amount="100.00",
                          issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
    with travel(dt.date(2026, 3, 4)):
        for organization_, invoice in ((organization, ours), (other_organization, theirs)):
            services.dispute_open(organization=organization_, actor=None, invoice=invoice, reason="price",
                                  amount="10.00")
            services.dunning_run(organization=organization_)
    return ours, theirs


@pytest.fixture
def staff_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    codenames = ["view_dispute", "view_dunningmessage", "change_dunningmessage", "view_dunningpolicy",
                 "change_dunningpolicy"]
    admin_user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(admin_user)
    return client


def test_staff_see_only_their_organizations_disputes_and_messages(staff_client, books):
    disputes = staff_client.get(reverse("admin:dunning_dispute_changelist")).content.decode()
    assert "OURS-1" in disputes and "THEIRS-1" not in disputes
    messages = staff_client.get(reverse("admin:dunning_dunningmessage_changelist")).content.decode()
    assert "Northwind Traders" in messages and "Their Customer" not in messages
    theirs = DunningMessage.objects.get(customer__name="Their Customer")
    response = staff_client.get(reverse("admin:dunning_dunningmessage_change", args=[theirs.pk]))
    assert response.status_code == 302  # the admin's answer for an object that does not exist


def test_messages_sent_are_read_only_evidence(staff_client, books):
    ours = DunningMessage.objects.get(customer__name="Northwind Traders")
    response = staff_client.post(reverse("admin:dunning_dunningmessage_change", args=[ours.pk]),
                                 {"subject": "Rewritten"})
    assert response.status_code == 403
    assert DunningMessage.objects.get(pk=ours.pk).subject == ours.subject


def test_policy_terms_changed_in_admin_are_audited(staff_client, organization, books):
    policy = DunningPolicy.objects.get(organization=organization, is_default=True)
    data = {"name": policy.name, "tone": "firm", "interest_mode": "fixed", "interest_rate": "8",
            "statutory_base_rate": "0", "interest_margin": "0", "discount_percent": "0", "discount_days": "0",
            "business_days_only": "on", "catch_up": "first_missed", "hold_when_credit_covers": "on",
            "steps-TOTAL_FORMS": "5", "steps-INITIAL_FORMS": "5",
            "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000"}
    for n, step in enumerate(policy.steps.order_by("days_from_due")):
        data[f"steps-{n}-id"] = str(step.pk)
        data[f"steps-{n}-policy"] = str(policy.pk)
    response = staff_client.post(reverse("admin:dunning_dunningpolicy_change", args=[policy.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert (policy.tone, policy.annual_rate) == ("firm", 8)
    entry = AuditEntry.objects.filter(organization=organization, action="dunning.policy_updated").get()
    assert entry.after == {"tone": "firm", "interest_mode": "fixed", "interest_rate": "8"}
