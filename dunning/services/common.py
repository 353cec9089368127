"""Helpers shared by the dunning services: the timeline, webhook events, role checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer
from tenancy.errors import DomainError
from tenancy.models import Organization
from tenancy.services import Actor

from .. import selectors
from ..models import (
    CollectionTask,
    CustomerEvent,
    EventKind,
    TaskKind,
)

# --- helpers -------------------------------------------------------------------------------

def _actor_label(actor: Actor, fallback: str = "system") -> str:
    return actor.get_username() if actor is not None else fallback


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True).encode()).hexdigest()


def timeline_add(*, organization: Organization, customer: Customer, kind: EventKind, summary: str,
                 data: dict | None = None, actor_label: str = "system", content_hash: str = "") -> CustomerEvent:
    """Append an entry to the customer's timeline."""
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    return CustomerEvent.objects.create(organization=organization, customer=customer, kind=kind, summary=summary[:500],
                                        data=data, content_hash=content_hash or _hash({"summary": summary, **data}),
                                        actor_label=actor_label, occurred_at=timezone.now())


def _emit(organization: Organization, type: str, payload: dict) -> None:
    from tenancy.webhooks import event_emit

    event_emit(organization=organization, type=type, payload=payload)


def _collector_require(organization: Organization, user, *, field: str) -> None:
    """Customers and tasks go to members with the collector role or higher, nobody else."""
    if not selectors.collectors(organization).filter(pk=user.pk).exists():
        raise DomainError(_("%(user)s is not a collector of %(org)s.")
                          % {"user": user.get_username(), "org": organization.name}, field=field)



def _follow_up(organization: Organization, customer: Customer, title: str, today: dt.date,
               collector_id: int | None) -> CollectionTask:
    return CollectionTask.objects.create(organization=organization, customer=customer, kind=TaskKind.FOLLOW_UP,
                                         title=title, assigned_to_id=collector_id, due_on=today,
                                         created_at=timezone.now())
