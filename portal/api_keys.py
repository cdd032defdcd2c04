"""API keys: how they are made, checked and revoked (organization keys by their admins,
platform keys by staff). A key is shown once, when it is created; only its hash is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import audit_as
from portal.exceptions import ApplicationError
from portal.models import Organization, OrganizationAPIKey, PlatformAPIKey, User
from portal.selectors import membership_get

ORGANIZATION_KEY_KIND = "spo"
PLATFORM_KEY_KIND = "spp"
# Writing last_used_at on every request would turn each read into a write: once a minute is
# precise enough for "last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the row and the full key, which is never shown again."""

    record: OrganizationAPIKey | PlatformAPIKey
    key: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_key(kind: str) -> tuple[str, str, str]:
    """(full key, prefix, hashed secret)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{kind}_{prefix}_{secret}", prefix, hash_secret(secret)


def _validated_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the key a name, e.g. the system that will use it."))
    if len(name) > 100:
        raise ApplicationError(_("A key name has at most 100 characters."))
    return name


def _require_admin(*, organization: Organization, actor: User) -> None:
    membership = membership_get(organization=organization, user=actor)
    if membership is None or not membership.is_admin:
        raise PermissionDenied(_("Only an admin of the partner organization can do this."))


@transaction.atomic
def organization_key_create(
    *, organization: Organization, actor: User, name: str, scope: str
) -> IssuedKey:
    """An admin creates a key for the organization's own tooling, read or read-write."""
    _require_admin(organization=organization, actor=actor)
    if scope not in OrganizationAPIKey.Scope.values:
        raise ApplicationError(_("Unknown scope: %(scope)s.") % {"scope": scope})
    key, prefix, hashed = _new_key(ORGANIZATION_KEY_KIND)
    record = OrganizationAPIKey(
        organization=organization,
        name=_validated_name(name),
        scope=scope,
        prefix=prefix,
        hashed_secret=hashed,
        created_by=actor,
    )
    audit_as(record, actor=actor)
    record.save()
    return IssuedKey(record=record, key=key)


@transaction.atomic
def organization_key_revoke(
    *, organization: Organization, actor: User, key_id: int
) -> OrganizationAPIKey:
    """An admin revokes one of the organization's keys; it is refused from then on."""
    _require_admin(organization=organization, actor=actor)
    record = OrganizationAPIKey.objects.for_org(organization).select_for_update().filter(pk=key_id)
    key = record.first()
    if key is None:
        raise ApplicationError(_("This API key does not exist."))
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        audit_as(key, actor=actor)
        key.save(update_fields=["revoked_at"])
    return key


@transaction.atomic
def platform_key_create(*, actor: User, name: str) -> IssuedKey:
    """Staff create a key for a telemetry pipeline (customers, associations, usage)."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only program staff can create platform keys."))
    key, prefix, hashed = _new_key(PLATFORM_KEY_KIND)
    record = PlatformAPIKey(
        name=_validated_name(name), prefix=prefix, hashed_secret=hashed, created_by=actor
    )
    audit_as(record, actor=actor)
    record.save()
    return IssuedKey(record=record, key=key)


def key_authenticate(raw_key: str) -> OrganizationAPIKey | PlatformAPIKey | None:
    """The active key this text is, or None (unknown, malformed, wrong secret or revoked)."""
    kind, _sep, rest = raw_key.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if not prefix or not secret:
        return None
    record: OrganizationAPIKey | PlatformAPIKey | None
    if kind == ORGANIZATION_KEY_KIND:
        # The key names its organization: this lookup is where the organization comes from.
        record = (
            OrganizationAPIKey.objects.unscoped()
            .select_related("organization")
            .filter(prefix=prefix)
            .first()
        )
    elif kind == PLATFORM_KEY_KIND:
        record = PlatformAPIKey.objects.filter(prefix=prefix).first()
    else:
        return None
    if record is None or not hmac.compare_digest(record.hashed_secret, hash_secret(secret)):
        return None
    if record.revoked_at is not None:
        return None
    _touch(record)
    return record


def _touch(record: OrganizationAPIKey | PlatformAPIKey) -> None:
    now = timezone.now()
    if record.last_used_at is not None and now - record.last_used_at < LAST_USED_RESOLUTION:
        return
    # An UPDATE, not save(): last use is not an audited change.
    if isinstance(record, OrganizationAPIKey):
        rows = OrganizationAPIKey.objects.for_org_id(record.organization_id).filter(pk=record.pk)
        rows.update(last_used_at=now)
    else:
        PlatformAPIKey.objects.filter(pk=record.pk).update(last_used_at=now)
    record.last_used_at = now


def organization_key_list(*, organization: Organization) -> QuerySet[OrganizationAPIKey]:
    """The organization's keys, active ones first, newest first."""
    return (
        OrganizationAPIKey.objects.for_org(organization)
        .select_related("created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
    )


@transaction.atomic
def keys_revoke(*, keys: list[OrganizationAPIKey | PlatformAPIKey], actor: User) -> int:
    """Staff revoke keys (the admin's action); already revoked ones are left as they are."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only program staff can revoke keys here."))
    revoked = 0
    now = timezone.now()
    for key in keys:
        if key.revoked_at is None:
            key.revoked_at = now
            audit_as(key, actor=actor)
            key.save(update_fields=["revoked_at"])
            revoked += 1
    return revoked
