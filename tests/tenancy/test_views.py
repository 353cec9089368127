"""Tenancy pages: sign-in, organization and language switchers, outbox, settings."""

import pytest
from django.urls import reverse

from tenancy.mail import ORGANIZATION_HEADER
from tenancy.middleware import SESSION_ORGANIZATION_KEY
from tenancy.models import Membership, OutboxMessage, Role, UserProfile
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def outbox_mail(settings):
    # pytest-django swaps in the locmem backend; the Outbox pages read what ours stores.
    settings.EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _outbox_message(organization, subject, html=""):
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, "Dear customer,\nplease pay.", "ar@acme.example", ["ap@client.example"],
                                     headers={ORGANIZATION_HEADER: str(organization.pk)} if organization else {})
    if html:
        message.attach_alternative(html, "text/html")
    message.attach("statement.pdf", b"%PDF-1.4", "application/pdf")
    message.send()
    return OutboxMessage.objects.get(subject=subject)


def test_login_with_a_wrong_password_shows_an_error(client, admin_user):
    response = client.post(reverse("login"), {"username": admin_user.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()


def test_login_lands_on_the_dashboard(client, admin_user):
    response = client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD})
    assert response["Location"] == reverse("dashboard")


def test_logout_is_a_post(admin_client):
    response = admin_client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert admin_client.get(reverse("dashboard")).status_code == 302


def test_switch_to_an_organization_the_user_belongs_to(admin_client, admin_user, organization):
    second = OrganizationFactory(name="Beta Holdings")
    MembershipFactory(organization=second, user=admin_user, role=Role.VIEWER)
    response = admin_client.post(reverse("organization_switch"), {"organization": second.pk})
    assert response["Location"] == reverse("dashboard")
    assert admin_client.session[SESSION_ORGANIZATION_KEY] == second.pk
    page = admin_client.get(reverse("dashboard"))
    assert page.context["organization"] == second
    assert page.context["membership"].role == Role.VIEWER


def test_switch_to_a_foreign_organization_is_404_and_changes_nothing(admin_client, other_organization, organization):
    response = admin_client.post(reverse("organization_switch"), {"organization": other_organization.pk})
    assert response.status_code == 404
    assert SESSION_ORGANIZATION_KEY not in admin_client.session
    assert admin_client.get(reverse("dashboard")).context["organization"] == organization


def test_language_switch_is_saved_for_the_user(admin_client, admin_user):
    response = admin_client.post(reverse("language_set"), {"language": "zh-hans", "next": reverse("invoice_list")})
    assert response["Location"] == reverse("invoice_list")
    assert UserProfile.objects.get(user=admin_user).language == "zh-hans"
    page = admin_client.get(reverse("invoice_list")).content.decode()
    assert "发票" in page
    assert '<html lang="zh-hans">' in page


def test_anonymous_language_switch_uses_the_cookie(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    page = client.get(reverse("login")).content.decode()
    assert "登录" in page


def test_language_switch_ignores_an_unknown_language(admin_client, admin_user):
    admin_client.post(reverse("language_set"), {"language": "xx"})
    assert not UserProfile.objects.filter(user=admin_user, language="xx").exists()


def test_outbox_lists_only_this_organizations_messages(admin_client, organization, other_organization):
    _outbox_message(organization, "Statement for March")
    _outbox_message(other_organization, "Rival statement")
    _outbox_message(None, "System message")
    page = admin_client.get(reverse("outbox_list")).content.decode()
    assert "Statement for March" in page
    assert "Rival statement" not in page
    assert "System message" not in page


def test_outbox_detail_escapes_the_html_body_into_a_sandboxed_iframe(admin_client, organization):
    message = _outbox_message(organization, "Reminder", html='<p onclick="x()">Pay <script>alert(1)</script></p>')
    page = admin_client.get(reverse("outbox_detail", args=[message.pk])).content.decode()
    assert 'sandbox=""' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "statement.pdf" in page
    assert "ap@client.example" in page


def test_another_organizations_outbox_message_is_404(admin_client, other_organization):
    message = _outbox_message(other_organization, "Rival statement")
    assert admin_client.get(reverse("outbox_detail", args=[message.pk])).status_code == 404


def test_admin_updates_the_settings(admin_client, organization):
    response = admin_client.post(reverse("organization_settings"), {
        "name": "Acme Trading Ltd", "base_currency": "CNY", "timezone": "Asia/Shanghai",
        "default_payment_terms_days": "45", "aging_buckets": "15, 30,60,90,180", "default_language": "zh-hans",
    })
    assert response["Location"] == reverse("organization_settings")
    organization.refresh_from_db()
    assert organization.aging_buckets == [15, 30, 60, 90, 180]
    assert (organization.name, organization.default_payment_terms_days) == ("Acme Trading Ltd", 45)


def test_bad_aging_buckets_show_the_models_message(admin_client, organization):
    response = admin_client.post(reverse("organization_settings"), {
        "name": "Acme Trading", "base_currency": "CNY", "timezone": "Asia/Shanghai",
        "default_payment_terms_days": "30", "aging_buckets": "60,30", "default_language": "en",
    })
    assert response.context["settings_form"].errors["aging_buckets"] == [
        "Aging buckets must be 1 to 8 increasing whole numbers of days, e.g. [30, 60, 90]."
    ]
    organization.refresh_from_db()
    assert organization.aging_buckets == [30, 60, 90]


def test_aging_buckets_must_be_numbers(admin_client):
    response = admin_client.post(reverse("organization_settings"), {
        "name": "Acme Trading", "base_currency": "CNY", "timezone": "Asia/Shanghai",
        "default_payment_terms_days": "30", "aging_buckets": "30,sixty", "default_language": "en",
    })
    assert response.context["settings_form"].errors["aging_buckets"] == [
        "Write whole numbers of days separated by commas, e.g. 30,60,90."
    ]


def test_a_viewer_cannot_change_settings(client, organization, viewer):
    client.force_login(viewer)
    page = client.get(reverse("organization_settings")).content.decode()
    assert "Only admins can change these settings." in page
    response = client.post(reverse("organization_settings"), {
        "name": "Hijacked", "base_currency": "USD", "timezone": "UTC",
        "default_payment_terms_days": "30", "aging_buckets": "30", "default_language": "en",
    })
    assert response.context["settings_form"].non_field_errors() == ["This needs the Admin role in Acme Trading."]
    organization.refresh_from_db()
    assert organization.name == "Acme Trading"


def test_admin_adds_a_member_by_email(admin_client, organization, user_factory):
    newcomer = user_factory(email="li.wei@example.com")
    response = admin_client.post(reverse("membership_set"), {"username": "LI.WEI@example.com", "role": "collector"})
    assert response.status_code == 302
    assert Membership.objects.get(organization=organization, user=newcomer).role == Role.COLLECTOR


def test_adding_an_unknown_user_is_a_form_error(admin_client):
    response = admin_client.post(reverse("membership_set"), {"username": "ghost", "role": "viewer"})
    assert response.context["member_form"].errors["username"] == ["No active user has this username or email."]


def test_settings_pages_are_404_without_membership(client, user_factory):
    client.force_login(user_factory())
    assert client.get(reverse("organization_settings")).status_code == 404
    assert client.get(reverse("outbox_list")).status_code == 404
