"""Writes for tenancy: role checks, the audit chain, organizations and memberships."""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .db import RawJson, rows_insert
from .errors import DomainError, ErrorCode, PermissionDenied
from .models import AuditChainHead, AuditEntry, Membership, Organization, Role, UserProfile, role_covers
from .money import MINOR_UNIT_FIELDS, minor_unit_check
from .selectors import membership_candidates

Actor = AbstractBaseUser | None  # None is the system itself (scheduled work, migrations)

# Who the system actor is acting for, when known (e.g. "api-key:ifk_1a2b3c4d"); set by the API.
audit_actor_label: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_actor_label", default=None)


def role_require(*, organization: Organization, actor: Actor, role: Role) -> None:
    """Raise PermissionDenied unless `actor` holds `role` (or a higher one) in `organization`.

    The system actor (None) is trusted: it only runs work that a permitted user scheduled."""
    if actor is None:
        return
    held = (
        Membership.objects.filter(organization=organization, user_id=actor.pk)
        .values_list("role", flat=True)
        .first()
    )
    if held is None or not role_covers(held, role):
        raise PermissionDenied(
            _("This needs the %(role)s role in %(org)s.") % {"role": role.label, "org": organization.name}
        )


def same_organization_check(organization: Organization, *objects: models.Model) -> None:
    """Refuse an object of another organization as if it did not exist: a service never confirms
    that another organization's row exists (the API turns this into a 404)."""
    for obj in objects:
        if obj.organization_id != organization.pk:
            raise DomainError(_("Not found."), code=ErrorCode.NOT_FOUND)


def nul_check(obj: models.Model, names: Iterable[str]) -> None:
    """PostgreSQL text cannot hold a NUL character (0x00): refuse it as a clear error naming the
    field, not a database failure (forms and the API refuse it already; files and callers may not)."""
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, str) and "\x00" in value:
            raise DomainError(_("%(field)s: NUL characters (0x00) are not allowed.") % {"field": name}, field=name)


def _json_has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_json_has_nul(key) or _json_has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_json_has_nul(item) for item in value)
    return False


def _field_label(obj: models.Model, name: str) -> str:
    """What people read for a model field in a message: its verbose name, not its attribute name."""
    try:
        return capfirst(obj._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return "" if name == NON_FIELD_ERRORS else name


def model_check(obj: models.Model, *, exclude: Sequence[str] = ()) -> None:
    """Model validation (full_clean; constraints are left to the database) as a DomainError naming
    the first bad field, after nul_check of every text field (and of the strings in JSON fields:
    jsonb cannot hold \u0000 either)."""
    fields = [f for f in obj._meta.concrete_fields if f.name not in exclude]
    nul_check(obj, [f.attname for f in fields if isinstance(f, models.CharField | models.TextField)])
    for field in fields:
        if isinstance(field, models.JSONField) and _json_has_nul(getattr(obj, field.attname)):
            raise DomainError(_("%(field)s: NUL characters (0x00) are not allowed.") % {"field": _field_label(obj, field.name)},
                              field=field.name)
    try:
        obj.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        detail = " ".join(messages)
        label = _field_label(obj, field)
        message = _("%(field)s: %(detail)s") % {"field": label, "detail": detail} if label else detail
        raise DomainError(message, field=field, detail=detail) from None
    # Amounts no finer than the row currency's ISO 4217 minor unit (apps register which fields: money.py).
    for name in MINOR_UNIT_FIELDS.get(obj._meta.label, ()):
        value = getattr(obj, name)
        if value is not None and name not in exclude:
            minor_unit_check(value, obj.currency, field=name)


# One encoder, reused: json.dumps(cls=...) would build one per call (a good part of a small payload's cost).
_CANONICAL = DjangoJSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# orjson writes the same bytes for every JSON type but floats (1e16 is 1e+16 to the standard library);
# the dates go to DjangoJSONEncoder.default as they do with the standard encoder.
_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


# What orjson and the standard encoder write alike, with nothing inside to look at.
_LEAVES = frozenset({str, int, bool, type(None), Decimal, dt.date, dt.datetime})


def _has_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return False
    kinds = set(map(type, items))
    if float in kinds:
        return True
    return not kinds <= _LEAVES and any(_has_float(item) for item in items if type(item) not in _LEAVES)


def _canonical_default(value: Any) -> Any:
    """DjangoJSONEncoder.default, its two commonest cases first (the audit snapshot of an invoice
    holds five Decimals and two dates)."""
    kind = type(value)
    if kind is Decimal:
        return str(value)
    if kind is dt.date:
        return value.isoformat()
    return _CANONICAL.default(value)


def _orjson_canonical(payload: Any) -> bytes | None:
    """canonical_json by orjson, or None for a payload only the standard encoder takes as it is
    (a float, a non-string key, an integer beyond 64 bits)."""
    if _has_float(payload):
        return None
    try:
        return orjson.dumps(payload, default=_canonical_default, option=_ORJSON_CANONICAL)
    except orjson.JSONEncodeError:
        return None


def canonical_json(payload: Any) -> bytes:
    """The canonical JSON of `payload`: keys sorted, no spaces, non-ASCII as it is, Decimals and
    dates as DjangoJSONEncoder writes them. orjson encodes it (the tests hold its bytes equal to
    the standard encoder's); a float, or anything orjson refuses, goes to the standard encoder."""
    text = _orjson_canonical(payload)
    return text if text is not None else _CANONICAL.encode(payload).encode()


def _chain_hash(*, organization_id: int, sequence: int, created_at: str, actor: str, action: str, object_type: str,
                object_id: str, before: bytes | None, after: bytes | None, previous_hash: str) -> str:
    """An entry's hash: the canonical JSON of its content and the previous link (before and after
    given as their canonical JSON)."""
    payload = {
        "organization": organization_id, "sequence": sequence, "created_at": created_at, "actor": actor,
        "action": action, "object_type": object_type, "object_id": object_id,
        "before": None if before is None else orjson.Fragment(before),
        "after": None if after is None else orjson.Fragment(after), "previous_hash": previous_hash,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def audit_entry_hash(entry: AuditEntry) -> str:
    """The hash of a stored entry: its content and the previous link."""
    return _chain_hash(
        organization_id=entry.organization_id, sequence=entry.sequence, created_at=entry.created_at.isoformat(),
        actor=entry.actor_label, action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
        before=None if entry.before is None else canonical_json(entry.before),
        after=None if entry.after is None else canonical_json(entry.after), previous_hash=entry.previous_hash,
    )


def jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """`value` as JSON types: Decimals, dates and UUIDs become the strings the encoder writes
    (so audit entries store what is hashed, and webhook payloads what is sent). The standard
    decoder: orjson's would turn integers beyond 64 bits into floats."""
    return None if value is None else json.loads(canonical_json(value))


def _stored_canonical(value: Any) -> bytes:
    """canonical_json of `value` as it reads back from the database, which is what an audit entry
    must hash. What orjson encodes reads back unchanged; what only the standard encoder takes (a
    non-string key: {10: .., 9: ..} is written {"9": .., "10": ..} but reads back {"10": .., "9": ..})
    is decoded and encoded once more, as jsonable() always did."""
    text = _orjson_canonical(value)
    return text if text is not None else canonical_json(json.loads(_CANONICAL.encode(value)))


GENESIS_HASH = "0" * 64


def _chain_lock(organization: Organization) -> None:
    """Serialize appends to one organization's chain until the transaction ends.

    The lock row is only locked, never updated: rewriting one row per entry would leave a
    version per entry in a long transaction (a 10,000-row import) and slow every later read."""
    if AuditChainHead.objects.select_for_update(no_key=True).filter(organization=organization).exists():
        return
    AuditChainHead.objects.get_or_create(organization=organization)
    AuditChainHead.objects.select_for_update(no_key=True).filter(organization=organization).exists()


AuditSpec = tuple[models.Model, dict[str, Any] | None, dict[str, Any] | None]  # obj, before, after


def audit_record(
    *,
    organization: Organization,
    actor: Actor,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> None:
    """Append an entry to the organization's audit chain, inside the caller's transaction."""
    audit_record_many(organization=organization, actor=actor, action=action, entries=[(obj, before, after)],
                      actor_label=actor_label)


_AUDIT_COLUMNS = ("organization_id", "sequence", "created_at", "actor_id", "actor_label", "action", "object_type",
                  "object_id", "before", "after", "previous_hash", "entry_hash")


class AuditBatch:
    """Entries appended to an organization's chain together, inside the caller's transaction.

    `add` prepares an entry's content (its before/after as canonical JSON) without touching the
    database, so it can run while the database stores what the entries describe; `write` then
    locks the chain, reads its end, links and hashes the entries in order and inserts them all.
    The chain is locked only after the caller's own rows are written, as a single audit_record
    locks it: taking it earlier would deadlock with a concurrent writer whose row ours waits on."""

    def __init__(self, *, organization: Organization, actor: Actor, action: str, actor_label: str | None = None):
        self._organization = organization
        self._action = action
        self._actor_id = None if actor is None else actor.pk
        self._label = actor_label or (actor.get_username() if actor is not None else audit_actor_label.get() or "system")
        self._entries: list[tuple[str, str, bytes | None, bytes | None]] = []

    def add(self, obj: models.Model, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        self._entries.append((obj._meta.label_lower, str(obj.pk), None if before is None else _stored_canonical(before),
                              None if after is None else _stored_canonical(after)))

    def write(self, *, batch_size: int = 2000) -> list[int]:
        """Append the entries added to the chain (one lock, one insert); returns their ids."""
        entries, self._entries = self._entries, []
        if not entries:
            return []
        organization_id = self._organization.pk
        _chain_lock(self._organization)
        last = (AuditEntry.objects.filter(organization_id=organization_id).order_by("-sequence")
                .values_list("sequence", "entry_hash").first())
        sequence, previous_hash = last or (0, GENESIS_HASH)
        now = timezone.now()
        created_at = now.isoformat()

        def rows():  # linked and hashed as the entries before them are stored
            nonlocal sequence, previous_hash
            for object_type, object_id, before, after in entries:
                sequence += 1
                entry_hash = _chain_hash(organization_id=organization_id, sequence=sequence, created_at=created_at,
                                         actor=self._label, action=self._action, object_type=object_type,
                                         object_id=object_id, before=before, after=after, previous_hash=previous_hash)
                yield (organization_id, sequence, now, self._actor_id, self._label, self._action, object_type,
                       object_id, None if before is None else RawJson(before.decode()),
                       None if after is None else RawJson(after.decode()), previous_hash, entry_hash)
                previous_hash = entry_hash

        return rows_insert(AuditEntry, _AUDIT_COLUMNS, rows(), count=len(entries), batch_size=batch_size)


def audit_record_many(
    *,
    organization: Organization,
    actor: Actor,
    action: str,
    entries: list[AuditSpec],
    actor_label: str | None = None,
    batch_size: int = 2000,
) -> list[int]:
    """Append one entry per (obj, before, after) to the chain, in order: one lock and one
    lookup of the chain's end however many there are, then one insert. Returns their ids.

    Each entry stores `before`/`after` as their canonical JSON, the text that is hashed."""
    if not entries:
        return []
    # No savepoint: callers are atomic already, and an error here must roll back their write too.
    with transaction.atomic(savepoint=False):
        batch = AuditBatch(organization=organization, actor=actor, action=action, actor_label=actor_label)
        for obj, before, after in entries:
            batch.add(obj, before, after)
        return batch.write(batch_size=batch_size)


@transaction.atomic
def organization_create(*, name: str, slug: str, actor: Actor = None, **fields: Any) -> Organization:
    """Create an organization; the creating user (if any) becomes its admin."""
    organization = Organization(name=name, slug=slug, **fields)
    organization.full_clean()
    organization.save()
    if actor is not None:
        Membership.objects.create(organization=organization, user=actor, role=Role.ADMIN)
    audit_record(organization=organization, actor=actor, action="organization.created", obj=organization,
                 after={"name": name, "slug": slug, **fields})
    return organization


SETTINGS_FIELDS = ("name", "base_currency", "timezone", "default_payment_terms_days", "aging_buckets", "default_language")

# Apps holding amounts in the base currency say which (fn(organization) -> names of what it holds, e.g.
# ["invoices", "FX rates"]); while any is held the base currency cannot change: the stored amounts, rates,
# limits and statements would silently be read in the new currency.
BaseCurrencyUse = Callable[[Organization], list[str]]
_base_currency_uses: list[BaseCurrencyUse] = []


def base_currency_use_register(use: BaseCurrencyUse) -> None:
    if use not in _base_currency_uses:
        _base_currency_uses.append(use)


def _base_currency_change_check(organization: Organization, new: str) -> None:
    if new == organization.base_currency:
        return
    held = [what for use in _base_currency_uses for what in use(organization)]
    if held:
        raise DomainError(
            _("The base currency cannot change from %(old)s to %(new)s: this organization already has %(held)s in "
              "%(old)s, which would silently be read as %(new)s. Keep %(old)s, or use a new organization for %(new)s.")
            % {"old": organization.base_currency, "new": new, "held": ", ".join(held)},
            field="base_currency")


@transaction.atomic
def organization_update(*, organization: Organization, actor: Actor, **changes: Any) -> Organization:
    """Change an organization's settings (admins only)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not organization settings: {sorted(unknown)}")
    if "base_currency" in changes:
        _base_currency_change_check(organization, changes["base_currency"])
    before = {f: getattr(organization, f) for f in changes}
    for field, value in changes.items():
        setattr(organization, field, value)
    organization.full_clean()
    organization.save(update_fields=list(changes))
    audit_record(organization=organization, actor=actor, action="organization.updated", obj=organization,
                 before=before, after=changes)
    return organization


MEMBERSHIP_USER_NOT_FOUND = gettext_lazy("No active user has this username or email.")


@transaction.atomic
def membership_set(*, organization: Organization, actor: Actor, user: AbstractBaseUser, role: Role) -> Membership:
    """Add a user to an organization or change their role (admins only).

    An admin may add only users who belong to no organization yet (or change the role of their
    own members); a member of another organization is refused as if they did not exist. The
    system actor (support staff in the Django admin, seed_demo) may add anyone. The last admin
    keeps the role."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if actor is not None and not membership_candidates(organization).filter(pk=user.pk).exists():
        raise DomainError(str(MEMBERSHIP_USER_NOT_FOUND), code=ErrorCode.NOT_FOUND, field="username")
    # The organization's admins, locked in a fixed order: two admins demoting each other at the
    # same time must not leave none.
    admins = list(Membership.objects.select_for_update(no_key=True).filter(organization=organization, role=Role.ADMIN)
                  .order_by("pk").values_list("user_id", flat=True))
    if role != Role.ADMIN and admins == [user.pk]:
        raise DomainError(_("An organization needs at least one admin."), field="role")
    membership, created = Membership.objects.select_for_update(no_key=True).get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    before = None if created else {"role": membership.role}
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    audit_record(organization=organization, actor=actor, action="membership.set", obj=membership,
                 before=before, after={"user": user.get_username(), "role": role})
    return membership


def user_language_set(*, user: AbstractBaseUser, language: str) -> None:
    """Remember a user's UI language (a preference, not organization data: no audit)."""
    UserProfile.objects.update_or_create(user=user, defaults={"language": language})
