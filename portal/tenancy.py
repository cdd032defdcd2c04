"""Tenancy primitives: every tenant-owned row carries `organization`; reads say which one.

`Model.objects.for_org(org)` is the only ordinary way to read tenant data and refuses to run
without an organization (fail closed). A deliberate cross-tenant read says `.unscoped()`, so it
can be found with grep and reviewed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models

if TYPE_CHECKING:
    from portal.models import Organization


class TenantScopeError(RuntimeError):
    """A tenant-owned table was read without naming the organization."""


class TenantQuerySet(models.QuerySet):
    def for_org(self, organization: Organization | None) -> Self:
        """Rows of one organization; refuses to run without one."""
        from portal.models import Organization

        if not isinstance(organization, Organization) or organization.pk is None:
            raise TenantScopeError(
                f"{self.model.__name__} read without an organization (got {organization!r})."
            )
        return self.filter(organization=organization)

    def unscoped(self) -> Self:
        """Every organization's rows: a deliberate cross-tenant read."""
        return self.all()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]  # dynamic base class from Django
    pass


class TenantModel(models.Model):
    """Base of every tenant-owned model: an indexed `organization` and the scoped manager."""

    organization = models.ForeignKey(
        "portal.Organization", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    objects = TenantManager()

    # Set by services before a save so that django-simple-history records who acted.
    _history_user: object

    class Meta:
        abstract = True
