"""The Django admin shows a staff user only the rows of their own organizations."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from receivables.models import Invoice
from tenancy.models import AuditEntry, Membership, Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def two_ledgers(organization, other_organization):
    ours = make_invoice(organization, CustomerFactory(organization=organization, name="Our Customer"),
                        number="OURS-1", issue_date=dt.date(2026, 1, 5))
    theirs = make_invoice(other_organization,
                          CustomerFactory(organization=other_organization, name="Their Customer", currency="USD"),
                          number="THEIRS-1", issue_date=dt.date(2026, 1, 5))
    return ours, theirs


@pytest.fixture
def staff_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    codenames = ["view_invoice", "view_customer", "view_auditentry", "view_membership", "add_membership",
                 "change_membership", "view_organization"]
    admin_user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(admin_user)
    return client


def test_staff_sees_only_their_organizations_invoices(staff_client, two_ledgers):
    page = staff_client.get(reverse("admin:receivables_invoice_changelist")).content.decode()
    assert "OURS-1" in page
    assert "THEIRS-1" not in page
    assert "Rival Corp" not in page  # not even in the organization filter


def test_staff_cannot_open_another_organizations_invoice(staff_client, two_ledgers):
    _ours, theirs = two_ledgers
    response = staff_client.get(reverse("admin:receivables_invoice_change", args=[theirs.pk]))
    assert response.status_code == 302  # the admin's answer for an object that does not exist
    assert response["Location"] == reverse("admin:index")


def test_ledger_is_read_only_in_admin(staff_client, two_ledgers):
    ours, _theirs = two_ledgers
    response = staff_client.post(reverse("admin:receivables_invoice_change", args=[ours.pk]),
                                 {"number": "CHANGED"})
    assert response.status_code == 403
    assert Invoice.objects.get(pk=ours.pk).number == "OURS-1"


def test_audit_entries_are_read_only_and_scoped(staff_client, organization, two_ledgers):
    page = staff_client.get(reverse("admin:tenancy_auditentry_changelist")).content.decode()
    entry = AuditEntry.objects.filter(organization=organization).first()
    assert f"/admin/tenancy/auditentry/{entry.pk}/change/" in page
    theirs = AuditEntry.objects.exclude(organization=organization).first()
    assert f"/admin/tenancy/auditentry/{theirs.pk}/change/" not in page
    response = staff_client.post(reverse("admin:tenancy_auditentry_change", args=[entry.pk]), {"action": "forged"})
    assert response.status_code == 403
    assert staff_client.post(reverse("admin:tenancy_auditentry_delete", args=[entry.pk])).status_code == 403


def test_membership_form_offers_only_the_staff_users_organizations(staff_client, organization, other_organization):
    form = staff_client.get(reverse("admin:tenancy_membership_add")).context["adminform"].form
    assert list(form.fields["organization"].queryset) == [organization]


def test_membership_added_in_admin_goes_through_the_service(staff_client, organization, user_factory):
    newcomer = user_factory()
    response = staff_client.post(reverse("admin:tenancy_membership_add"), {
        "organization": organization.pk, "user": newcomer.pk, "role": Role.COLLECTOR})
    assert response.status_code == 302
    assert Membership.objects.get(organization=organization, user=newcomer).role == Role.COLLECTOR
    assert AuditEntry.objects.filter(organization=organization, action="membership.set").exists()


def test_membership_for_a_foreign_organization_is_refused(staff_client, other_organization, user_factory):
    newcomer = user_factory()
    response = staff_client.post(reverse("admin:tenancy_membership_add"), {
        "organization": other_organization.pk, "user": newcomer.pk, "role": Role.ADMIN})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_staff_viewer_cannot_grant_roles(client, organization, user_factory):
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER).user
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.set(Permission.objects.filter(codename__in=["add_membership", "view_membership"]))
    client.force_login(viewer)
    response = client.post(reverse("admin:tenancy_membership_add"), {
        "organization": organization.pk, "user": user_factory().pk, "role": Role.ADMIN})
    assert "This needs the Admin role in Acme Trading." in response.content.decode()
    assert Membership.objects.filter(organization=organization).count() == 1


def test_superuser_sees_every_organization(client, two_ledgers, user_factory):
    root = user_factory(is_staff=True, is_superuser=True)
    client.force_login(root)
    page = client.get(reverse("admin:receivables_invoice_changelist")).content.decode()
    assert "OURS-1" in page and "THEIRS-1" in page
