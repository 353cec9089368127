"""Dunning policies, their steps, and which policy a customer follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from receivables.models import Customer, Segment
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import MINOR_UNITS, parse_amount
from tenancy.services import Actor, audit_record, model_check, role_require, same_organization_check

from .. import calendars
from ..models import (
    Channel,
    CustomerDunning,
    DunningNotice,
    DunningPolicy,
    DunningStep,
    SegmentPolicy,
    StepTemplate,
    Tone,
)
from .common import _collector_require

DEFAULT_STEPS = (
    {"days_from_due": -7, "channel": Channel.EMAIL, "template": StepTemplate.COURTESY},
    {"days_from_due": 1, "channel": Channel.EMAIL, "template": StepTemplate.REMINDER},
    {"days_from_due": 30, "channel": Channel.EMAIL, "template": StepTemplate.SECOND, "call_task": True},
    {"days_from_due": 60, "channel": Channel.EMAIL, "template": StepTemplate.FINAL_NOTICE, "call_task": True},
    {"days_from_due": 90, "channel": Channel.LETTER, "template": StepTemplate.FINAL_DEMAND, "call_task": True},
)


# --- policies ------------------------------------------------------------------------------

def dunning_policy_default(*, organization: Organization) -> DunningPolicy:
    """The organization's default policy, created with the standard steps on first use."""
    policy = DunningPolicy.objects.filter(organization=organization, is_default=True).first()
    if policy is not None:
        return policy
    with transaction.atomic():
        # Serialise the lazy creation: two first runs must not each create a default.
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        policy = DunningPolicy.objects.filter(organization=organization, is_default=True).first()
        if policy is None:
            policy = DunningPolicy.objects.create(organization=organization, name=str(_("Standard")), is_default=True)
            DunningStep.objects.bulk_create([DunningStep(organization=organization, policy=policy,
                                                         fee_currency=organization.base_currency, **s)
                                             for s in DEFAULT_STEPS])
            audit_record(organization=organization, actor=None, action="dunning.policy_created", obj=policy,
                         after={"name": policy.name, "steps": [s["days_from_due"] for s in DEFAULT_STEPS]})
    return policy


def _steps_validate(steps: Sequence[dict], organization: Organization) -> list[dict]:
    if not steps:
        raise DomainError(_("A policy needs at least one step."), field="steps")
    days = [int(s["days_from_due"]) for s in steps]
    if len(set(days)) != len(days):
        raise DomainError(_("Two steps cannot fire on the same day from the due date."), field="steps")
    cleaned = []
    for step in steps:
        channel = step.get("channel", Channel.EMAIL)
        if channel not in Channel.values:
            raise DomainError(_("Unknown channel %(channel)s.") % {"channel": channel}, field="steps")
        fee_currency = step.get("fee_currency") or organization.base_currency
        if fee_currency not in MINOR_UNITS:
            raise DomainError(_("Unknown currency %(currency)s.") % {"currency": fee_currency}, field="fee_currency")
        cleaned.append({"days_from_due": int(step["days_from_due"]), "channel": channel,
                        "template": step.get("template", StepTemplate.REMINDER),
                        "fee_amount": parse_amount(step.get("fee_amount", "0"), field="fee_amount", allow_zero=True),
                        "fee_currency": fee_currency, "call_task": bool(step.get("call_task", False))})
    return sorted(cleaned, key=lambda s: s["days_from_due"])


@transaction.atomic
def dunning_policy_create(*, organization: Organization, actor: Actor, name: str, steps: Sequence[dict],
                          tone: str = Tone.STANDARD, **fields: Any) -> DunningPolicy:
    """Create a non-default policy (e.g. gentle, for strategic customers) with its steps (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    dunning_policy_default(organization=organization)
    if DunningPolicy.objects.filter(organization=organization, name=name).exists():
        raise DomainError(_("A policy named %(name)s already exists.") % {"name": name}, code=ErrorCode.DUPLICATE,
                          field="name")
    if "holiday_calendars" in fields:
        fields["holiday_calendars"] = calendars.calendars_clean(fields["holiday_calendars"])
    policy = DunningPolicy(organization=organization, name=name, tone=tone, **fields)
    model_check(policy, exclude=["organization"])
    policy.save()
    cleaned = _steps_validate(steps, organization)
    DunningStep.objects.bulk_create([DunningStep(organization=organization, policy=policy, **s) for s in cleaned])
    audit_record(organization=organization, actor=actor, action="dunning.policy_created", obj=policy,
                 after={"name": name, "tone": tone, "steps": cleaned, **fields})
    return policy


@transaction.atomic
def dunning_policy_update(*, organization: Organization, actor: Actor, policy: DunningPolicy,
                          **changes: Any) -> DunningPolicy:
    """Change a policy's tone, interest or discount terms (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, policy)
    allowed = {"name", "tone", "interest_mode", "interest_rate", "statutory_base_rate", "interest_margin",
               "discount_percent", "discount_days", "business_days_only", "holiday_calendars", "catch_up",
               "hold_when_credit_covers"}
    if set(changes) - allowed:
        raise ValueError(f"Not policy settings: {sorted(set(changes) - allowed)}")
    name = changes.get("name")
    if name and DunningPolicy.objects.filter(organization=organization, name=name).exclude(pk=policy.pk).exists():
        raise DomainError(_("A policy named %(name)s already exists.") % {"name": name}, code=ErrorCode.DUPLICATE,
                          field="name")
    if "holiday_calendars" in changes:
        changes["holiday_calendars"] = calendars.calendars_clean(changes["holiday_calendars"])
    before = {k: getattr(policy, k) for k in changes}
    for key, value in changes.items():
        setattr(policy, key, value)
    model_check(policy, exclude=["organization"])
    policy.save()
    audit_record(organization=organization, actor=actor, action="dunning.policy_updated", obj=policy,
                 before=before, after=changes)
    return policy


@transaction.atomic
def dunning_policy_steps_set(*, organization: Organization, actor: Actor, policy: DunningPolicy,
                             steps: Sequence[dict]) -> DunningPolicy:
    """Replace a policy's steps (admins). A step that already sent notices keeps its row (the
    notices point at it): it may change, but not be removed."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, policy)
    policy = DunningPolicy.objects.select_for_update(no_key=True).get(pk=policy.pk)
    cleaned = _steps_validate(steps, organization)
    existing = {s.days_from_due: s for s in DunningStep.objects.filter(policy=policy)}
    wanted = {s["days_from_due"] for s in cleaned}
    removed = [s for days, s in existing.items() if days not in wanted]
    used = set(DunningNotice.objects.filter(step__in=removed).values_list("step__days_from_due", flat=True))
    if used:
        raise DomainError(_("The %(days)s step already sent notices; keep it (you may change it).")
                          % {"days": f"{min(used):+d}"}, field="steps")
    before = [{"days_from_due": s.days_from_due, "channel": s.channel, "template": s.template,
               "fee_amount": s.fee_amount, "fee_currency": s.fee_currency, "call_task": s.call_task}
              for s in sorted(existing.values(), key=lambda s: s.days_from_due)]
    DunningStep.objects.filter(pk__in=[s.pk for s in removed]).delete()
    for data in cleaned:
        step = existing.get(data["days_from_due"]) or DunningStep(organization=organization, policy=policy)
        for key, value in data.items():
            setattr(step, key, value)
        step.save()
    audit_record(organization=organization, actor=actor, action="dunning.policy_steps_set", obj=policy,
                 before={"steps": before}, after={"steps": cleaned})
    return policy


@transaction.atomic
def segment_policy_set(*, organization: Organization, actor: Actor, segment: str,
                       policy: DunningPolicy | None) -> None:
    """Make every customer of a segment follow `policy` (None: back to the default)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if segment not in Segment.values:
        raise DomainError(_("Unknown segment %(segment)s.") % {"segment": segment}, field="segment")
    if policy is None:
        SegmentPolicy.objects.filter(organization=organization, segment=segment).delete()
    else:
        same_organization_check(organization, policy)
        SegmentPolicy.objects.update_or_create(organization=organization, segment=segment,
                                               defaults={"policy": policy})
    audit_record(organization=organization, actor=actor, action="dunning.segment_policy_set", obj=organization,
                 after={"segment": segment, "policy": policy.pk if policy else None})


@transaction.atomic
def customer_dunning_set(*, organization: Organization, actor: Actor, customer: Customer,
                         **changes: Any) -> CustomerDunning:
    """A customer's policy override, exclusion or assigned collector (credit managers)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, customer)
    if set(changes) - {"policy", "excluded", "collector"}:
        raise ValueError(f"Not customer dunning settings: {sorted(changes)}")
    if changes.get("policy") is not None:
        same_organization_check(organization, changes["policy"])
    if changes.get("collector") is not None:
        _collector_require(organization, changes["collector"], field="collector")
    setting, _created = CustomerDunning.objects.select_for_update(no_key=True).get_or_create(organization=organization,
                                                                                  customer=customer)
    before = {"policy": setting.policy_id, "excluded": setting.excluded, "collector": setting.collector_id}
    for key, value in changes.items():
        setattr(setting, key, value)
    setting.save()
    audit_record(organization=organization, actor=actor, action="dunning.customer_set", obj=setting, before=before,
                 after={"policy": setting.policy_id, "excluded": setting.excluded, "collector": setting.collector_id})
    return setting


def policy_for_customer(organization: Organization, customer: Customer) -> DunningPolicy:
    """Customer override, else segment policy, else the default."""
    setting = CustomerDunning.objects.filter(organization=organization, customer=customer).first()
    if setting is not None and setting.policy_id:
        return setting.policy
    segment = SegmentPolicy.objects.filter(organization=organization, segment=customer.segment).first()
    return segment.policy if segment is not None else dunning_policy_default(organization=organization)
