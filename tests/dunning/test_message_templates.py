"""An organization's own wording of each step (issue 14 item 4): admins only, audited, plain
text with listed variables, used by the daily run, escaped in HTML, the files without a row."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from dunning import services, wording
from dunning.models import DunningMessage, MessageTemplate, StepTemplate
from tenancy.errors import DomainError, PermissionDenied
from tenancy.models import AuditEntry
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)  # a Wednesday: the invoice below is 1 day late ("reminder")
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def late(organization, customer):
    make_invoice(organization, customer, amount="120.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 3),
                 number="INV-77")


def logged_in(client, user):
    client.force_login(user)
    return client


def test_the_daily_run_uses_the_organizations_wording(organization, admin_user, english,
                                                      django_capture_on_commit_callbacks):
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.REMINDER,
                                  language="en", subject="{{ organization_name }} asks: pay {{ customer_name }}",
                                  body="Hello {{customer_name}},\n\n{{ invoice_lines }}\n\nBye, {{ organization_name }}")
    late(organization, english)

    with travel(TODAY, organization.timezone), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)

    [sent] = mail.outbox
    assert sent.subject == "Acme Trading asks: pay Northwind Traders"
    assert sent.body.startswith("Hello Northwind Traders,\n\nInvoice")
    assert "INV-77" in sent.body and sent.body.endswith("Bye, Acme Trading\n")
    message = DunningMessage.objects.get()
    assert message.body_text == sent.body  # the rendered text is kept as sent


def test_without_a_row_the_files_are_used(organization, english, django_capture_on_commit_callbacks):
    late(organization, english)
    with travel(TODAY, organization.timezone), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)
    [sent] = mail.outbox
    assert sent.subject == "Acme Trading: payment reminder"


def test_a_wording_in_one_language_leaves_the_other_on_the_files(organization, admin_user, chinese,
                                                                 django_capture_on_commit_callbacks):
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.REMINDER,
                                  language="en", subject="Own", body="Own {{ invoice_lines }}")
    late(organization, chinese)
    with travel(TODAY, organization.timezone), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)
    [sent] = mail.outbox
    assert sent.subject == "Acme Trading：付款提醒"


def test_script_in_the_wording_and_in_the_customer_name_stays_text_in_html(
        organization, admin_user, django_capture_on_commit_callbacks):
    customer = CustomerFactory(organization=organization, name=SCRIPT, language="en", contact_emails=["a@x.example"])
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.REMINDER,
                                  language="en", subject="Hi {{ customer_name }}",
                                  body=f"{SCRIPT}\nDear {{{{ customer_name }}}}\n{{{{ portal_url }}}}")
    late(organization, customer)
    with travel(TODAY, organization.timezone), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)

    message = DunningMessage.objects.get()
    assert message.body_text.startswith(f"{SCRIPT}\nDear {SCRIPT}\n")
    assert "<script>" not in message.body_html
    assert message.body_html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # title (subject), body twice
    assert '<a href="http' in message.body_html  # the portal link stays a link


def test_the_dunning_preview_page_escapes_an_edited_wording(client, organization, admin_user, collector):
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.REMINDER,
                                  language="en", subject=f"S {SCRIPT}", body=f"B {SCRIPT} {{{{ customer_name }}}}")
    customer = CustomerFactory(organization=organization, name=f"N {SCRIPT}", language="en")
    late(organization, customer)
    with travel(TODAY, organization.timezone):
        html = logged_in(client, collector).get(reverse("dunning:preview")).content.decode()
    assert SCRIPT not in html
    assert "S &lt;script&gt;" in html and "B &lt;script&gt;" in html


def test_unknown_variables_are_refused_and_nothing_is_saved(organization, admin_user):
    with pytest.raises(DomainError) as raised:
        services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.REMINDER,
                                      language="en", subject="ok", body="{{ customer.organization.api_keys }} {{ x }}")
    # a dotted name is not a placeholder at all; a plain unknown name is refused by name
    assert raised.value.field == "body"
    assert raised.value.message == "Unknown variable: x. Use only the variables listed."
    assert not MessageTemplate.objects.exists()


def test_a_dotted_name_is_left_as_typed_not_looked_up():
    values = {"customer_name": "Northwind"}
    assert wording.substitute("{{ customer.name }} / {{ customer_name }}", values) == "{{ customer.name }} / Northwind"


def test_only_admins_edit_wording(organization, credit_manager):
    with pytest.raises(PermissionDenied):
        services.message_template_set(organization=organization, actor=credit_manager,
                                      template=StepTemplate.REMINDER, language="en", subject="s", body="b")
    assert not MessageTemplate.objects.exists()


def test_changes_and_resets_are_audited_with_before_and_after(organization, admin_user):
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.SECOND,
                                  language="zh-hans", subject="一", body="正文一")
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.SECOND,
                                  language="zh-hans", subject="二", body="正文二")
    services.message_template_reset(organization=organization, actor=admin_user, template=StepTemplate.SECOND,
                                     language="zh-hans")

    entries = list(AuditEntry.objects.filter(organization=organization, action__startswith="dunning.message_template")
                   .order_by("sequence"))
    assert [e.action for e in entries] == ["dunning.message_template_set", "dunning.message_template_set",
                                           "dunning.message_template_reset"]
    assert entries[1].before["subject"] == "一" and entries[1].after["subject"] == "二"
    assert entries[2].before["body"] == "正文二\n"
    assert not MessageTemplate.objects.exists()


def test_payment_instructions_are_never_dropped():
    filled = wording.fill(wording.Wording("s", "Pay now."), {"payment_instructions": "Pay to Factor Co only."})
    assert filled.body == "Pay now.\n\nPay to Factor Co only.\n"


def test_the_default_wording_is_the_files_text_with_placeholders():
    default = wording.default_wording(StepTemplate.FINAL_NOTICE, "en")
    assert default.subject == "{{ organization_name }}: final notice before further action"
    assert "This is our final notice" in default.body and "{{ invoice_lines }}" in default.body
    assert wording.unknown_variables(default.subject + default.body) == []


# --- the pages ------------------------------------------------------------------------------

def test_an_admin_edits_previews_and_saves_a_wording(client, organization, admin_user):
    url = reverse("dunning:message_template_edit", args=["reminder", "en"])
    page = logged_in(client, admin_user).get(url)
    assert page.status_code == 200
    assert "{{ invoice_lines }}" in page.content.decode()  # the variables are listed

    preview = client.post(url, {"subject": "Hi {{ customer_name }}", "body": f"{SCRIPT} {{{{ oldest_days_overdue }}}}",
                                "action": "preview"})
    html = preview.content.decode()
    assert "Hi Sample Customer Ltd" in html and "&lt;script&gt;alert(1)&lt;/script&gt; 45" in html
    assert SCRIPT not in html
    assert not MessageTemplate.objects.exists()

    saved = client.post(url, {"subject": "Hi {{ customer_name }}", "body": "Pay {{ invoice_lines }}", "action": "save"})
    assert saved.status_code == 302
    row = MessageTemplate.objects.get(organization=organization)
    assert (row.template, row.language, row.subject, row.updated_by) == ("reminder", "en", "Hi {{ customer_name }}",
                                                                         admin_user)


def test_the_live_preview_answers_json(client, organization, admin_user):
    url = reverse("dunning:message_template_preview", args=["second", "zh-hans"])
    response = logged_in(client, admin_user).post(url, {"subject": "{{ customer_name }}", "body": "{{ nope }}"})
    assert response.json() == {"subject": "Sample Customer Ltd", "text": "{{ nope }}\n",
                               "error": "Unknown variable: nope. Use only the variables listed."}


def test_a_bad_variable_shows_a_form_error(client, organization, admin_user):
    url = reverse("dunning:message_template_edit", args=["reminder", "en"])
    response = logged_in(client, admin_user).post(url, {"subject": "s", "body": "{{ balance }}", "action": "save"})
    assert response.status_code == 400
    assert "Unknown variable: balance. Use only the variables listed." in response.content.decode()


@pytest.mark.parametrize("role", ["viewer", "collector", "credit_manager"])
def test_other_roles_cannot_open_the_editor(client, request, organization, role):
    user = request.getfixturevalue(role)
    url = reverse("dunning:message_template_edit", args=["reminder", "en"])
    assert logged_in(client, user).get(url).status_code == 403
    assert client.post(url, {"subject": "s", "body": "b", "action": "save"}).status_code == 403
    listing = client.get(reverse("dunning:message_template_list")).content.decode()
    assert url not in listing
    assert not MessageTemplate.objects.exists()


def test_an_unknown_step_or_language_is_a_404(client, admin_user):
    for args in (["nope", "en"], ["reminder", "fr"]):
        response = logged_in(client, admin_user).get(reverse("dunning:message_template_edit", args=args))
        assert response.status_code == 404


def test_support_staff_see_only_their_organizations_wordings_read_only(client, organization, other_organization,
                                                                         admin_user, user_factory):
    from django.contrib.auth.models import Permission

    from tenancy.models import Membership, Role

    theirs_admin = user_factory()
    Membership.objects.create(organization=other_organization, user=theirs_admin, role=Role.ADMIN)
    services.message_template_set(organization=organization, actor=admin_user, template=StepTemplate.REMINDER,
                                  language="en", subject="Ours subject", body="Ours")
    services.message_template_set(organization=other_organization, actor=theirs_admin,
                                  template=StepTemplate.REMINDER, language="en", subject="Theirs subject", body="T")
    admin_user.is_staff = True
    admin_user.save()
    admin_user.user_permissions.set(Permission.objects.filter(codename__in=["view_messagetemplate",
                                                                            "change_messagetemplate"]))
    client.force_login(admin_user)

    page = client.get(reverse("admin:dunning_messagetemplate_changelist")).content.decode()
    assert "Ours subject" in page and "Theirs subject" not in page
    ours = MessageTemplate.objects.get(organization=organization)
    response = client.post(reverse("admin:dunning_messagetemplate_change", args=[ours.pk]),
                           {"subject": "changed", "body": "changed"})
    assert response.status_code == 403
    ours.refresh_from_db()
    assert ours.subject == "Ours subject"
