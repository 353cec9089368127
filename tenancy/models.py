"""Organizations, memberships, the audit chain and the mail outbox."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .distribution import TenantForeignKey
from .money import currency_choices


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


def default_aging_buckets() -> list[int]:
    return [30, 60, 90]


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(tz)s is not an IANA time zone."), params={"tz": value})


def validate_aging_buckets(value: object) -> None:
    ok = (
        isinstance(value, list)
        and 1 <= len(value) <= 8
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        and value == sorted(set(value))
    )
    if not ok:
        raise ValidationError(
            _("Aging buckets must be 1 to 8 increasing whole numbers of days, e.g. [30, 60, 90].")
        )


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    base_currency = models.CharField(_("base currency"), max_length=3, choices=currency_choices, default="CNY")
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    default_payment_terms_days = models.PositiveSmallIntegerField(_("default payment terms (days)"), default=30)
    aging_buckets = models.JSONField(
        _("aging bucket boundaries (days)"), default=default_aging_buckets, validators=[validate_aging_buckets]
    )
    default_language = models.CharField(_("default language"), max_length=8, choices=Language.choices, default=Language.EN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_payment_terms_days__lte=3650), name="organization_terms_sane"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    COLLECTOR = "collector", _("Collector")
    CREDIT_MANAGER = "credit_manager", _("Credit manager")
    ADMIN = "admin", _("Admin")


# Each role can do everything the roles before it can.
ROLE_RANK = {Role.VIEWER: 0, Role.COLLECTOR: 1, Role.CREDIT_MANAGER: 2, Role.ADMIN: 3}


def role_covers(held: str, needed: Role) -> bool:
    """Whether holding role `held` allows what `needed` allows (each role includes those below it)."""
    return ROLE_RANK[Role(held)] >= ROLE_RANK[needed]


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class UserProfile(models.Model):
    """Per-user preferences: UI language and the organization last switched to."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class AuditEntry(models.Model):
    """One state change. Append-only and hash-chained per organization: each entry's hash
    covers its content and the previous entry's hash, so editing or deleting any entry
    breaks every link after it (`manage.py verify_audit`)."""

    # Indexed by the constraints and indexes below, which lead with it; the actor only where there is one.
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    sequence = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["organization", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sequence"], name="audit_sequence_unique"),
        ]
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit entries are append-only.")


class AuditChainHead(models.Model):
    """One row per organization, locked (never updated) to append the next audit entry."""

    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, primary_key=True, related_name="+")

    def __str__(self) -> str:
        return f"audit chain of organization {self.organization_id}"


class AuditCheckpoint(models.Model):
    """The head of an organization's audit chain at a moment, signed with SECRET_KEY: an anchor
    outside the chain, so removing its newest entries (which leaves a chain that still links) is
    detected. Written periodically (tenancy.tasks) and append-only like the chain; the weekly
    report mail carries the head too, outside the database altogether."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField()
    entry_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["organization", "-sequence"]
        constraints = [models.UniqueConstraint(fields=["organization", "sequence"], name="audit_checkpoint_unique")]

    def __str__(self) -> str:
        return f"#{self.sequence} of organization {self.organization_id}"


class OutboxMessage(models.Model):
    """A message kept by the embedded mail backend instead of being sent (EMAIL_URL=outbox:)."""

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    raw = models.BinaryField()
    attachment_names = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="outbox_org_created_idx")]

    def __str__(self) -> str:
        return self.subject


# --- REST API: keys, idempotency, webhooks (tenancy.api, tenancy.webhooks) --------------------

class ApiScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


def validate_api_scopes(value: object) -> None:
    if not (isinstance(value, list) and value and set(value) <= set(ApiScope.values)):
        raise ValidationError(_("Scopes must be a non-empty list of: read, write."))


class ApiKey(models.Model):
    """A per-organization API key. Only the sha256 of the token is stored; the token itself is
    shown once at creation. The prefix (the token's first characters) identifies it in lists."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list, validators=[validate_api_scopes])
    # Requests per minute for this key; empty uses API_KEY_THROTTLE_RATE.
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="api_key_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class IdempotencyRecord(models.Model):
    """The first response to a POST with an Idempotency-Key, replayed to retries for 24 hours.

    Claiming a key is inserting this row: the unique constraint, not a cache, decides which of
    two concurrent requests runs."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of caller, method, path and canonical body
    state = models.CharField(max_length=20, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_unique"),
            models.CheckConstraint(condition=models.Q(state__in=IdempotencyState.values),
                                   name="idempotency_state_valid"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class WebhookEndpoint(models.Model):
    """Where an organization wants its events POSTed, signed with the endpoint's secret."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    event_types = models.JSONField(_("events"), default=list, blank=True)  # empty: every event
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "is_active"], name="webhook_endpoint_org_idx")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookEvent(models.Model):
    """Something that happened, as sent to webhooks and listed at /api/v1/events/.

    `event_id` is what receivers deduplicate on. `dedupe_key` makes "once per transition" events
    (invoice.overdue) idempotent: a second insert with the same key is refused by the database."""

    # Indexed by webhook_event_org_idx, which leads with it.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_id = models.UUIDField()
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            # Partial: most events have no key, and NULLs never clash anyway.
            models.UniqueConstraint(fields=["organization", "dedupe_key"], condition=models.Q(dedupe_key__isnull=False),
                                    name="webhook_event_dedupe_unique"),
            # event_ids() makes it unique everywhere; the database checks it per organization (a
            # distributed table's unique keys include organization_id), event_id first so the index
            # still grows at its end.
            models.UniqueConstraint(fields=["event_id", "organization"], name="webhook_event_id_unique"),
        ]
        indexes = [models.Index(fields=["organization", "id"], name="webhook_event_org_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to one endpoint: its attempts, last response code and latency."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = TenantForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=WebhookDeliveryStatus.choices,
                              default=WebhookDeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempt_log = models.JSONField(default=list, blank=True)  # [{at, response_code, latency_ms, error}]
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker makes an attempt (the HTTP request runs outside any transaction); another
    # worker leaves the delivery alone until then.
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=WebhookDeliveryStatus.values),
                                   name="webhook_delivery_status_valid"),
        ]
        indexes = [
            models.Index(fields=["organization", "endpoint", "-created_at"], name="webhook_delivery_org_idx"),
            # The retry sweep reads only pending deliveries, a small part of the table.
            models.Index(fields=["last_attempt_at"], condition=models.Q(status="pending"),
                         name="webhook_delivery_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"
