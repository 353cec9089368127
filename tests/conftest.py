"""Test-wide setup: the suite runs on PostgreSQL and Redis for real (see the Makefile).

DATABASE_URL and REDIS_URL default to the local services so a bare `pytest` does the same
as `make test`. Celery runs eagerly unless a test starts real workers itself."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inflow")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DEBUG", "true")

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
