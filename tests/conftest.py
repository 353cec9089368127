"""Test-wide fixtures. The environment (PostgreSQL, Redis) is set in tests/environment.py."""

import pytest

from tenancy.models import Role
from tests.factories import CustomerFactory, MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="Acme Trading", slug="acme", base_currency="CNY", timezone="Asia/Shanghai")


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Rival Corp", slug="rival", base_currency="USD", timezone="America/New_York")


def _member(organization, role):
    return MembershipFactory(organization=organization, role=role).user


@pytest.fixture
def admin_user(organization):
    return _member(organization, Role.ADMIN)


@pytest.fixture
def credit_manager(organization):
    return _member(organization, Role.CREDIT_MANAGER)


@pytest.fixture
def collector(organization):
    return _member(organization, Role.COLLECTOR)


@pytest.fixture
def viewer(organization):
    return _member(organization, Role.VIEWER)


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, name="上海华东贸易有限公司", currency="CNY")


@pytest.fixture
def user_factory(db):
    return UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 work factor is for production; tests only need a real check.
    # PBKDF2 stays listed so hashes made outside the fixture (module-scoped data) still verify.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
