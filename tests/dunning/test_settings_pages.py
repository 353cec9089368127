"""The pages that set dunning up: policies and their steps (admins), a customer's policy or
exclusion (credit managers), payment plans with their installments (collectors), and the
weekend preview that says why nothing goes out today and shows Monday's run."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from dunning import services
from dunning.models import CustomerDunning, DunningPolicy, PaymentPlan
from tenancy.errors import DomainError
from tenancy.models import AuditEntry
from tests.dunning.conftest import highest_catch_up, travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

WEDNESDAY, SATURDAY, MONDAY = dt.date(2026, 3, 4), dt.date(2026, 3, 7), dt.date(2026, 3, 9)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()


@pytest.fixture
def overdue(organization, english):
    return make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 2, 1), number="INV-OLD")


def logged_in(client, user):
    client.force_login(user)
    return client


def step_post(prefix: str, steps: list[tuple[int, str, str]]) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(steps)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for n, (days, channel, template) in enumerate(steps):
        data.update({f"{prefix}-{n}-days_from_due": str(days), f"{prefix}-{n}-channel": channel,
                     f"{prefix}-{n}-template": template, f"{prefix}-{n}-fee_amount": "0"})
    return data


POLICY_TERMS = {"tone": "gentle", "interest_mode": "none", "interest_rate": "0", "statutory_base_rate": "0",
                "interest_margin": "0", "discount_percent": "0", "discount_days": "0", "business_days_only": "on"}


# --- weekend preview ---------------------------------------------------------------------------


def test_weekend_preview_says_why_and_shows_mondays_run(client, organization, overdue, collector):
    with travel(SATURDAY):
        preview = services.dunning_preview_page(organization)
        page = logged_in(client, collector).get(reverse("dunning:preview")).content.decode()
    assert preview.rows == []
    assert (preview.next_day, preview.held_policies) == (MONDAY, ["Standard"])
    # never contacted: Monday sends the first overdue reminder, not the +30 it reached
    assert [(c.number, c.step.days_from_due) for _cust, mail, _calls, _r in preview.next_rows for c in mail] == [
        ("INV-OLD", 1)]
    assert "Saturday: this policy (Standard) sends on business days only; Monday's run will send what is " \
           "below." in page
    assert "INV-OLD" in page.split('data-testid="preview-next-table"')[1]


def test_weekday_preview_has_no_weekend_note(client, organization, overdue, collector):
    with travel(WEDNESDAY):
        preview = services.dunning_preview_page(organization)
        page = logged_in(client, collector).get(reverse("dunning:preview")).content.decode()
    assert preview.next_day is None
    assert "business days only" not in page and "INV-OLD" in page


def test_a_weekend_policy_sends_today_and_nothing_is_held(organization, english, overdue, admin_user):
    with travel(SATURDAY):
        services.dunning_policy_update(organization=organization, actor=admin_user,
                                       policy=services.dunning_policy_default(organization=organization),
                                       business_days_only=False)
        preview = services.dunning_preview_page(organization)
    assert [c.number for _cust, mail, _calls, _r in preview.rows for c in mail] == ["INV-OLD"]
    assert preview.next_day is None


# --- policies ------------------------------------------------------------------------------------


def test_admin_creates_a_gentle_policy_with_its_steps(client, organization, admin_user):
    data = {"name": "Gentle", **POLICY_TERMS, **step_post("steps", [(3, "email", "reminder"),
                                                                    (45, "email", "second")])}
    response = logged_in(client, admin_user).post(reverse("dunning:policy_create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = DunningPolicy.objects.get(organization=organization, name="Gentle")
    assert (policy.tone, list(policy.steps.values_list("days_from_due", flat=True))) == ("gentle", [3, 45])


def test_admin_edits_terms_and_steps(client, organization, admin_user):
    policy = services.dunning_policy_default(organization=organization)
    data = {"name": "Standard", **POLICY_TERMS, "tone": "firm",
            **step_post("steps", [(-7, "email", "courtesy"), (1, "email", "reminder"), (45, "email", "second"),
                                  (90, "letter", "final_demand")])}
    response = logged_in(client, admin_user).post(reverse("dunning:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    policy.refresh_from_db()
    assert policy.tone == "firm"
    assert list(policy.steps.values_list("days_from_due", "channel")) == [
        (-7, "email"), (1, "email"), (45, "email"), (90, "letter")]
    assert AuditEntry.objects.filter(organization=organization, action="dunning.policy_steps_set").count() == 1


def test_two_steps_on_one_day_are_refused_on_the_form(client, organization, admin_user):
    policy = services.dunning_policy_default(organization=organization)
    data = {"name": "Standard", **POLICY_TERMS, **step_post("steps", [(1, "email", "reminder"),
                                                                      (1, "email", "second")])}
    response = logged_in(client, admin_user).post(reverse("dunning:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 400
    assert "Two steps cannot fire on the same day from the due date." in response.content.decode()
    assert policy.steps.count() == 5


def test_a_collector_cannot_edit_policies(client, organization, collector):
    policy = services.dunning_policy_default(organization=organization)
    data = {"name": "Mine", **POLICY_TERMS, **step_post("steps", [(1, "email", "reminder")])}
    response = logged_in(client, collector).post(reverse("dunning:policy_edit", args=[policy.pk]), data)
    assert response.status_code == 400
    assert "This needs the Admin role in Acme Trading." in response.content.decode()
    policy.refresh_from_db()
    assert (policy.name, policy.steps.count()) == ("Standard", 5)


def test_a_step_that_sent_notices_cannot_be_removed(organization, english, overdue, admin_user):
    highest_catch_up(organization)
    with travel(WEDNESDAY):
        services.dunning_run(organization=organization)  # INV-OLD gets the +30 notice
    policy = services.dunning_policy_default(organization=organization)
    with pytest.raises(DomainError) as refused:
        services.dunning_policy_steps_set(organization=organization, actor=admin_user, policy=policy,
                                          steps=[{"days_from_due": 1}, {"days_from_due": 60}])
    assert refused.value.message == "The +30 step already sent notices; keep it (you may change it)."
    kept = services.dunning_policy_steps_set(organization=organization, actor=admin_user, policy=policy, steps=[
        {"days_from_due": 30, "channel": "call"}, {"days_from_due": 60}])
    assert list(kept.steps.values_list("days_from_due", "channel")) == [(30, "call"), (60, "email")]


def test_another_organizations_policy_is_404(client, other_organization, admin_user):
    theirs = services.dunning_policy_default(organization=other_organization)
    assert logged_in(client, admin_user).get(reverse("dunning:policy_edit", args=[theirs.pk])).status_code == 404


# --- a customer's settings -----------------------------------------------------------------------


def test_credit_manager_sets_a_customers_policy_and_exclusion(client, organization, english, admin_user,
                                                              credit_manager):
    gentle = services.dunning_policy_create(organization=organization, actor=admin_user, name="Gentle",
                                            steps=[{"days_from_due": 10}], tone="gentle")
    response = logged_in(client, credit_manager).post(
        reverse("dunning:customer_settings", args=[english.pk]),
        {"policy": gentle.pk, "excluded": "on", "collector": credit_manager.pk})
    assert response.status_code == 302
    setting = CustomerDunning.objects.get(customer=english)
    assert (setting.policy, setting.excluded, setting.collector) == (gentle, True, credit_manager)
    page = client.get(reverse("dunning:customer_settings", args=[english.pk])).content.decode()
    assert "Policy now: Gentle" in page


def test_a_policy_of_another_organization_is_not_a_choice(client, organization, other_organization, english,
                                                          credit_manager):
    theirs = services.dunning_policy_default(organization=other_organization)
    response = logged_in(client, credit_manager).post(reverse("dunning:customer_settings", args=[english.pk]),
                                                      {"policy": theirs.pk})
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert not CustomerDunning.objects.exists()


def test_a_viewer_cannot_change_a_customers_settings(client, english, viewer):
    response = logged_in(client, viewer).post(reverse("dunning:customer_settings", args=[english.pk]),
                                              {"excluded": "on"})
    assert response.status_code == 400
    assert "This needs the Credit manager role in Acme Trading." in response.content.decode()
    assert not CustomerDunning.objects.exists()


# --- payment plans -------------------------------------------------------------------------------


def plan_post(invoices, installments: list[tuple[str, str]]) -> dict:
    data = {"plan-invoices": [i.pk for i in invoices], "plan-interest_rate": "0", "plan-grace_days": "3",
            "plan-notes": "", "installments-TOTAL_FORMS": str(len(installments)), "installments-INITIAL_FORMS": "0",
            "installments-MIN_NUM_FORMS": "0", "installments-MAX_NUM_FORMS": "1000"}
    for n, (due, amount) in enumerate(installments):
        data.update({f"installments-{n}-due_date": due, f"installments-{n}-amount": amount})
    return data


def test_plan_form_shows_the_sum_check_error_then_agrees_the_plan(client, organization, english, overdue,
                                                                  collector):
    second = make_invoice(organization, english, amount="500.00", issue_date=dt.date(2026, 1, 10),
                          due_date=dt.date(2026, 2, 10), number="INV-TWO")
    client = logged_in(client, collector)
    url = reverse("dunning:plan_create", args=[english.pk])
    with travel(WEDNESDAY):
        assert "INV-TWO" in client.get(url).content.decode()
        wrong = client.post(url, plan_post([overdue, second], [("2026-04-01", "700"), ("2026-05-01", "700")]))
        assert wrong.status_code == 400
        assert ("The installments&#x27; principal adds up to 1,400.00 CNY; the covered balance is 1,500.00 CNY "
                "(interest is added on the declining balance).") in wrong.content.decode()
        assert not PaymentPlan.objects.exists()
        right = client.post(url, plan_post([overdue, second], [("2026-04-01", "800"), ("2026-05-01", "700"),
                                                               ("", "")]))
    assert right.status_code == 302, right.content.decode()[:3000]
    plan = PaymentPlan.objects.get()
    assert list(plan.installments.values_list("sequence", "amount")) == [(1, 800), (2, 700)]


def test_plan_for_another_organizations_customer_is_404(client, other_organization, collector):
    stranger = CustomerFactory(organization=other_organization)
    assert logged_in(client, collector).get(reverse("dunning:plan_create", args=[stranger.pk])).status_code == 404


def test_only_collectors_and_up_can_be_a_customers_collector(client, organization, english, credit_manager, collector,
                                                             viewer):
    url = reverse("dunning:customer_settings", args=[english.pk])
    client = logged_in(client, credit_manager)

    choices = {pk for pk, _label in client.get(url).context["form"].fields["collector"].choices if pk}
    refused = client.post(url, {"collector": viewer.pk})

    assert {int(str(pk)) for pk in choices} == {credit_manager.pk, collector.pk}
    assert refused.status_code == 400 and "Select a valid choice." in refused.content.decode()
    with pytest.raises(DomainError) as error:
        services.customer_dunning_set(organization=organization, actor=credit_manager, customer=english,
                                      collector=viewer)
    assert (error.value.message, error.value.field) == (
        f"{viewer.username} is not a collector of Acme Trading.", "collector")
    assert not CustomerDunning.objects.exists()
    services.customer_dunning_set(organization=organization, actor=credit_manager, customer=english,
                                  collector=collector)
    assert CustomerDunning.objects.get(customer=english).collector == collector


def test_tasks_go_to_collectors_by_the_same_rule(organization, english, collector, viewer):
    from django.utils import timezone

    from dunning.models import CollectionTask

    task = CollectionTask.objects.create(organization=organization, customer=english, title="Call Northwind",
                                         due_on=WEDNESDAY, created_at=timezone.now())
    with pytest.raises(DomainError) as error:
        services.collection_task_assign(organization=organization, actor=collector, task=task, user=viewer)
    assert (error.value.message, error.value.field) == (
        f"{viewer.username} is not a collector of Acme Trading.", "assigned_to")
    task.refresh_from_db()
    assert task.assigned_to is None
    services.collection_task_assign(organization=organization, actor=collector, task=task, user=collector)
    task.refresh_from_db()
    assert task.assigned_to == collector


def test_plan_form_with_equal_parts_and_interest_on_the_declining_balance(client, organization, english, overdue,
                                                                          collector):
    client = logged_in(client, collector)
    url = reverse("dunning:plan_create", args=[english.pk])
    data = plan_post([overdue], [("2026-04-04", ""), ("2026-05-04", "")])
    data["plan-interest_rate"] = "12"
    with travel(WEDNESDAY):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = PaymentPlan.objects.get()
    # 1,000 in two parts of 500: 1,000 x 12% x 31/365 = 10.19, then 500 x 12% x 30/365 = 4.93
    assert list(plan.installments.values_list("principal", "interest")) == [(500, Decimal("10.19")),
                                                                           (500, Decimal("4.93"))]
