"""Who an admin may add to an organization, the last admin, and the organization a user lands in."""

import pytest
from django.urls import reverse

from tenancy import services
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import AuditEntry, Membership, Role
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = "No active user has this username or email."


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def rival_member(other_organization):
    return MembershipFactory(organization=other_organization, role=Role.VIEWER,
                             user__email="wang.fang@rival.example").user


# --- whom an admin may add ----------------------------------------------------------------------

@pytest.mark.parametrize("identifier", ["username", "email"])
def test_a_member_of_another_organization_is_not_found(admin_client, organization, rival_member, identifier):
    response = admin_client.post(reverse("membership_set"),
                                 {"username": getattr(rival_member, identifier), "role": "admin"})
    # The same answer as for nobody: the form tells nothing about other organizations' people.
    assert response.context["member_form"].errors["username"] == [NOT_FOUND]
    assert not Membership.objects.filter(organization=organization, user=rival_member).exists()


def test_the_service_refuses_a_member_of_another_organization(organization, admin_user, rival_member):
    with pytest.raises(DomainError) as refused:
        services.membership_set(organization=organization, actor=admin_user, user=rival_member, role=Role.VIEWER)
    assert (refused.value.code, refused.value.message) == (ErrorCode.NOT_FOUND, NOT_FOUND)
    assert not Membership.objects.filter(organization=organization, user=rival_member).exists()


def test_a_user_of_no_organization_can_be_added(admin_client, organization, user_factory):
    newcomer = user_factory()
    response = admin_client.post(reverse("membership_set"), {"username": newcomer.username, "role": "viewer"})
    assert response.status_code == 302
    assert Membership.objects.get(organization=organization, user=newcomer).role == Role.VIEWER


def test_a_member_of_this_and_another_organization_can_change_role(admin_client, organization, rival_member):
    MembershipFactory(organization=organization, user=rival_member, role=Role.VIEWER)
    response = admin_client.post(reverse("membership_set"), {"username": rival_member.username, "role": "collector"})
    assert response.status_code == 302
    assert Membership.objects.get(organization=organization, user=rival_member).role == Role.COLLECTOR


def test_support_staff_as_the_system_actor_may_add_anyone(organization, rival_member):
    services.membership_set(organization=organization, actor=None, user=rival_member, role=Role.VIEWER)
    assert Membership.objects.get(organization=organization, user=rival_member).role == Role.VIEWER


# --- the last admin -------------------------------------------------------------------------------

def test_the_last_admin_cannot_be_demoted(admin_client, organization, admin_user):
    response = admin_client.post(reverse("membership_set"), {"username": admin_user.username, "role": "viewer"})
    assert response.context["member_form"].errors["role"] == ["An organization needs at least one admin."]
    assert Membership.objects.get(organization=organization, user=admin_user).role == Role.ADMIN
    assert not AuditEntry.objects.filter(organization=organization, action="membership.set").exists()


def test_the_system_actor_cannot_demote_the_last_admin_either(organization, admin_user):
    with pytest.raises(DomainError, match="An organization needs at least one admin."):
        services.membership_set(organization=organization, actor=None, user=admin_user, role=Role.CREDIT_MANAGER)
    assert Membership.objects.get(organization=organization, user=admin_user).role == Role.ADMIN


def test_an_admin_can_be_demoted_while_another_remains(organization, admin_user):
    second = MembershipFactory(organization=organization, role=Role.ADMIN).user
    services.membership_set(organization=organization, actor=admin_user, user=second, role=Role.VIEWER)
    assert Membership.objects.get(organization=organization, user=second).role == Role.VIEWER
    with pytest.raises(DomainError, match="An organization needs at least one admin."):
        services.membership_set(organization=organization, actor=admin_user, user=admin_user, role=Role.VIEWER)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COLLECTOR, Role.CREDIT_MANAGER])
def test_a_non_admin_posting_to_members_changes_nothing(client, organization, admin_user, user_factory, role):
    member = MembershipFactory(organization=organization, role=role).user
    newcomer = user_factory()
    client.force_login(member)
    for username, wanted in ((newcomer.username, "viewer"), (member.username, "admin"),
                             (admin_user.username, "viewer")):
        response = client.post(reverse("membership_set"), {"username": username, "role": wanted})
        assert response.status_code == 200
        assert response.context["member_form"].non_field_errors() == ["This needs the Admin role in Acme Trading."]
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Membership.objects.get(organization=organization, user=member).role == role
    assert Membership.objects.get(organization=organization, user=admin_user).role == Role.ADMIN
    assert not AuditEntry.objects.filter(organization=organization, action="membership.set").exists()


# --- the organization a user lands in -------------------------------------------------------------

def test_without_a_choice_a_user_lands_in_the_organization_they_joined_first(client, user_factory):
    user = user_factory()
    zeta = OrganizationFactory(name="Zeta Logistics", slug="zeta")
    alpha = OrganizationFactory(name="Alpha Foods", slug="alpha")
    MembershipFactory(organization=zeta, user=user, role=Role.VIEWER)
    MembershipFactory(organization=alpha, user=user, role=Role.ADMIN)  # joined later; first by name
    client.force_login(user)
    response = client.get(reverse("outbox_list"))
    assert response.status_code == 200
    assert response.wsgi_request.organization == zeta
