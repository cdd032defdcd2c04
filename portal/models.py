"""Tenancy, people and the certification catalog.

The tenant is the partner organization. Users belong to organizations through memberships;
people (engineers) are the individuals whose certifications count towards designations — they
need not have a login.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.tenancy import TenantModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in: identified by e-mail, no username. Staff = program staff."""

    username = None  # type: ignore[assignment]  # e-mail replaces the username
    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()  # type: ignore[assignment,misc]  # e-mail based, no username

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


class LocalizedNameMixin(models.Model):
    """Catalog rows named in English and Japanese; `display_name` follows the active language."""

    name = models.CharField(_("name (English)"), max_length=200)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        language = (get_language() or "en").split("-")[0]
        return self.name_ja if language == "ja" and self.name_ja else self.name


class LegacyCompetency(LocalizedNameMixin):
    """One of the 18 legacy Silver/Gold competencies of the former partner network."""

    code = models.SlugField(_("code"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("legacy competency")
        verbose_name_plural = _("legacy competencies")


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def unscoped(self) -> OrganizationQuerySet:
        """Every organization: a deliberate cross-tenant read (staff, jobs, imports)."""
        return self.all()

    def for_user(self, user: User) -> OrganizationQuerySet:
        """The organizations a signed-in user is a member of."""
        memberships = Membership.objects.unscoped().filter(user=user)
        return self.filter(pk__in=memberships.values("organization_id"))


class Organization(models.Model):
    """A partner organization: the tenant."""

    partner_id = models.CharField(
        _("Partner ID"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{4,20}$", _("A Partner ID is 4 to 20 digits."))],
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    country = models.CharField(
        _("country"),
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use an ISO 3166-1 alpha-2 code, e.g. JP."))],
        help_text=_("ISO 3166-1 alpha-2. Partners located in China (CN) earn nothing through PAL."),
    )
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner organization")
        verbose_name_plural = _("partner organizations")

    def __str__(self) -> str:
        return f"{self.name} ({self.partner_id})"


class OrganizationLegacyCompetency(TenantModel):
    """A legacy competency an organization held, with its level."""

    class Level(models.TextChoices):
        GOLD = "gold", _("Gold")
        SILVER = "silver", _("Silver")

    competency = models.ForeignKey(
        LegacyCompetency, on_delete=models.PROTECT, verbose_name=_("competency")
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.SILVER)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "competency"], name="uniq_org_legacy_competency"
            )
        ]
        verbose_name = _("legacy competency held")
        verbose_name_plural = _("legacy competencies held")

    def __str__(self) -> str:
        return f"{self.competency} ({self.get_level_display()})"


class Membership(TenantModel):
    """A user's membership of an organization, with a role."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uniq_membership"),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "member"]), name="membership_role_valid"
            ),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=14)


class Invitation(TenantModel):
    """An invitation by e-mail to join an organization with a role."""

    email = models.EmailField(_("e-mail address"))
    role = models.CharField(
        _("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # An invitation opens sign-up once: these record the account created through it.
    signed_up_at = models.DateTimeField(null=True, blank=True)
    signed_up_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="uniq_open_invitation_per_email",
            ),
        ]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organization_id}"

    @property
    def is_open(self) -> bool:
        unused = self.accepted_at is None and self.revoked_at is None
        return unused and self.expires_at > timezone.now()


class Person(TenantModel):
    """An individual of the organization whose certifications count (an engineer, usually)."""

    person_id = models.CharField(
        _("certification profile ID"),
        max_length=64,
        help_text=_("The individual's certification profile id, as used in imports."),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail address"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["name", "person_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "person_id"], name="uniq_person_id"),
        ]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return f"{self.name} ({self.person_id})"


EXAM_CODE = r"[A-Z]{2,3}-[0-9]{3}"
# A certification granted without an exam of its own code (the 2026 pages name several whose
# exam codes are not published): an upper-case credential code, words joined by hyphens.
CREDENTIAL_CODE = r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+"


class Certification(LocalizedNameMixin):
    """A Microsoft certification of the catalog, identified by the exam that grants it, or by a
    credential code where the program names a certification without an exam code."""

    class Level(models.TextChoices):
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    code = models.CharField(
        _("code"),
        max_length=60,
        unique=True,
        validators=[
            RegexValidator(
                rf"^(?:{EXAM_CODE}|{CREDENTIAL_CODE})$",
                _(
                    "Use an exam code such as AZ-500, or for a certification without one an "
                    "upper-case credential code such as GITHUB-AGENTIC-AI-DEVELOPER."
                ),
            )
        ],
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class HeldCertification(TenantModel):
    """A certification held by a person of the organization, active from earned to expiry.

    Active on a day: earned on or before it and not expired by then (it no longer counts on its
    expiry date); without an expiry date it stays active. `active_on_q` (queries) and
    `is_active_on` (a loaded row) are the one statement of that rule.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="certifications")
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="holders"
    )
    earned_on = models.DateField(_("earned on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta(TenantModel.Meta):
        ordering = ["certification__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "person", "certification"], name="uniq_held_certification"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gt=models.F("earned_on")),
                name="held_certification_expires_after_earned",
            ),
        ]
        verbose_name = _("held certification")
        verbose_name_plural = _("held certifications")

    def __str__(self) -> str:
        return f"{self.person_id}: {self.certification_id}"

    @staticmethod
    def active_on_q(day: date) -> models.Q:
        """Held certifications active on the day."""
        return models.Q(earned_on__lte=day) & (
            models.Q(expires_on__isnull=True) | models.Q(expires_on__gt=day)
        )

    def is_active_on(self, day: date) -> bool:
        """This certification counts on the day (the rule of `active_on_q`)."""
        return self.earned_on <= day and (self.expires_on is None or self.expires_on > day)


class APIKey(models.Model):
    """What both kinds of API key share: a public prefix, the secret's hash, use and revocation.

    The full key is `<kind>_<prefix>_<secret>`; only the prefix (to find the row) and the
    SHA-256 of the secret are stored. A key is 32 random bytes, so a fast hash is enough: there
    is nothing to guess a dictionary against, and every request checks one.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OrganizationAPIKey(APIKey, TenantModel):
    """A partner organization's key for its own tooling: read, or read and write."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        READ_WRITE = "read_write", _("Read and write")

    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)

    # last_used_at changes on every use; the audit trail records creation and revocation.
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        verbose_name = _("organization API key")
        verbose_name_plural = _("organization API keys")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=["read", "read_write"]), name="api_key_scope_valid"
            )
        ]

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.READ_WRITE


class PlatformAPIKey(APIKey):
    """A program telemetry pipeline's key (staff create it): writes customers, associations and
    usage for any organization, reads nothing else."""

    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("platform API key")
        verbose_name_plural = _("platform API keys")


class IdempotencyRecord(models.Model):
    """The stored response of a write sent with an `Idempotency-Key`, per caller and key.

    Not a tenant row: a platform key's writes span organizations, and the caller (a key or a
    user) is what the key is scoped to.
    """

    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)  # None: the first request runs
    response_body = models.JSONField(null=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="uniq_idempotency_key")
        ]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"


def _webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(TenantModel):
    """An HTTPS URL of the organization's that receives signed events (`portal.webhooks`)."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # Kept readable: the portal signs every delivery with it (HMAC-SHA256).
    secret = models.CharField(max_length=80, default=_webhook_secret, editable=False)
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(_("disabled automatically"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["consecutive_failures", "secret"])

    class Meta(TenantModel.Meta):
        ordering = ["-created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantModel):
    """One event sent (or to be sent) to one endpoint, with what the receiver answered."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=60)
    event_id = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TenantModel.Meta):
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "endpoint", "created_at"])]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
