"""Django's user and group admin: only superusers; a staff user of one organization cannot list
another tenant's users nor reset their passwords, even with every auth permission."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tenancy.models import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory


@pytest.fixture
def staff_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    admin_user.user_permissions.set(Permission.objects.filter(content_type__app_label="auth"))
    client.force_login(admin_user)
    return client


@pytest.fixture
def rival_admin(other_organization):
    return MembershipFactory(organization=other_organization, role=Role.ADMIN).user


def test_staff_user_cannot_list_users(staff_client, rival_admin):
    response = staff_client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 403
    assert rival_admin.username.encode() not in response.content


def test_staff_user_cannot_reset_another_organizations_admin_password(staff_client, rival_admin):
    url = reverse("admin:auth_user_password_change", args=[rival_admin.pk])
    assert staff_client.get(url).status_code == 403
    response = staff_client.post(url, {"password1": "N3w-pass-phrase!", "password2": "N3w-pass-phrase!",
                                       "usable_password": "true"})
    assert response.status_code == 403
    rival_admin.refresh_from_db()
    assert rival_admin.check_password(PASSWORD)


def test_staff_user_cannot_open_or_change_a_user(staff_client, rival_admin):
    assert staff_client.get(reverse("admin:auth_user_change", args=[rival_admin.pk])).status_code == 403
    assert staff_client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_the_admin_index_does_not_offer_users_to_staff(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("admin:auth_user_changelist").encode() not in response.content


def test_superuser_still_manages_users(client, rival_admin):
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 200
    assert rival_admin.username.encode() in response.content
