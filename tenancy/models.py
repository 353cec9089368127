"""Organizations, memberships, the audit chain and the mail outbox."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .money import CURRENCY_CHOICES


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
    base_currency = models.CharField(_("base currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
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

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
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
        indexes = [models.Index(fields=["organization", "object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit entries are append-only.")


class AuditChainHead(models.Model):
    """The last link of an organization's chain; locked to append the next entry."""

    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, primary_key=True, related_name="+")
    sequence = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.organization_id}@{self.sequence}"


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
