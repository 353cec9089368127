"""Test-wide fixtures. The environment (PostgreSQL, Redis) is set in tests/environment.py."""

import pytest

from tenancy.models import Role
from tests.factories import CustomerFactory, MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The audit tables refuse TRUNCATE (tenancy migration 0007); the test database allows it, for
    pytest-django's flush after each transactional test (new sessions inherit the database setting)."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" '
                               "SET inflow.audit_truncate = 'allowed'")
                cursor.execute("SET inflow.audit_truncate = 'allowed'")


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
def _default_language():
    """Each test starts and ends in the default language: a request as a zh-hans user leaves zh-hans
    active in the thread (Django's LocaleMiddleware activates, never restores), and a later test's
    messages would come out in Chinese."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 work factor is for production; tests only need a real check.
    # PBKDF2 stays listed so hashes made outside the fixture (module-scoped data) still verify.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


# --- the browser (Playwright's sync API over Debian's Chromium), one per test module -----------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a module's browser tests. The sync API runs an event loop in this thread
    while it is open: a second sync_playwright() would fail, and Django's connections (context-local
    under a running loop) opened by later tests would escape the test database's teardown. So every
    browser test uses this fixture, and it closes when its module ends."""
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is not installed: `apt-get install chromium` (.ci/run does it)")
    # The ORM calls the tests make themselves (fixtures, assertions) stay synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
