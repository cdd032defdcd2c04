"""Tenancy primitives: every tenant-owned row carries `organization`; reads say which one.

`Model.objects` is strict (fail closed): a query on it must start from `for_org(org)` (or
`for_org_id(id)` where only the id is at hand); anything else — `filter`, `count`, `all`, `get`,
a subquery that is never evaluated itself — raises `TenantScopeError` at once. A deliberate
cross-tenant read says `.unscoped()`, so it can be found with grep and reviewed. Writes that
carry the organization (`create(organization=...)`, `bulk_create`, saving an instance) work.

Django's own machinery reaches rows through `_default_manager` / `_base_manager`: related
managers (`person.certifications`), prefetching, the deletion collector, unique validation,
`ModelChoiceField`, serializers, the admin, django-simple-history. Those start from a row or a
queryset that is already scoped, or are staff tools, so the default manager is a plain one
(`unscoped_objects`, named in `TenantModel.Meta.default_manager_name`); application code never
names it. A system check keeps every concrete tenant model on this arrangement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, cast

from django.core import checks
from django.db import models

if TYPE_CHECKING:
    from collections.abc import Iterable

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

    def for_org_id(self, organization_id: int | None) -> Self:
        """Rows of one organization named by its id (tasks, imports hold ids); refuses None."""
        if isinstance(organization_id, bool) or not isinstance(organization_id, int):
            raise TenantScopeError(
                f"{self.model.__name__} read without an organization id (got {organization_id!r})."
            )
        return self.filter(organization_id=organization_id)

    def unscoped(self) -> Self:
        """Every organization's rows: a deliberate cross-tenant read."""
        return self.all()


_TenantManagerBase = models.Manager.from_queryset(TenantQuerySet)


class UnscopedTenantManager(_TenantManagerBase):
    """The default manager, for Django's internals only: every row, unchecked."""


class TenantManager(_TenantManagerBase):
    """`Model.objects`: every read must name its organization or say `unscoped()`."""

    def get_queryset(self) -> TenantQuerySet:
        # Every proxied queryset method (filter, count, get, all, ...) starts here, so an
        # unscoped query fails when it is built, before it is ever evaluated.
        raise TenantScopeError(
            f"{self.model.__name__}.objects used without an organization: "
            "start from .for_org(organization) or, for a cross-tenant read, .unscoped()."
        )

    def _every_row(self) -> TenantQuerySet:
        return cast(TenantQuerySet, super().get_queryset())

    def for_org(self, organization: Organization | None) -> TenantQuerySet:
        return self._every_row().for_org(organization)

    def for_org_id(self, organization_id: int | None) -> TenantQuerySet:
        return self._every_row().for_org_id(organization_id)

    def unscoped(self) -> TenantQuerySet:
        return self._every_row()

    # Writes whose rows carry the organization themselves (the column is NOT NULL).
    def create(self, **kwargs: Any) -> Any:
        return self._every_row().create(**kwargs)

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        return self._every_row().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        # Like saving: rows already loaded (hence scoped), updated by primary key.
        return self._every_row().bulk_update(objs, *args, **kwargs)

    # Read-then-write: scoped by the organization the caller passes, or refused.
    def get_or_create(self, defaults: Any = None, **kwargs: Any) -> tuple[Any, bool]:
        return self._scoped_by(kwargs).get_or_create(defaults=defaults, **kwargs)

    def update_or_create(
        self, defaults: Any = None, create_defaults: Any = None, **kwargs: Any
    ) -> tuple[Any, bool]:
        return self._scoped_by(kwargs).update_or_create(
            defaults=defaults, create_defaults=create_defaults, **kwargs
        )

    def _scoped_by(self, lookups: dict[str, Any]) -> TenantQuerySet:
        if "organization" in lookups:
            return self.for_org(lookups["organization"])
        if "organization_id" in lookups:
            return self.for_org_id(lookups["organization_id"])
        raise TenantScopeError(
            f"{self.model.__name__}.objects get_or_create/update_or_create without organization=."
        )


class TenantModel(models.Model):
    """Base of every tenant-owned model: an indexed `organization` and the scoped manager.

    A subclass that declares its own `class Meta` must extend `TenantModel.Meta`, which names
    the default manager (the system check below refuses it otherwise).
    """

    organization = models.ForeignKey(
        "portal.Organization", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    # Declared first too, so that it stays the default even under a Meta that forgot to extend
    # TenantModel.Meta (which the check below still reports).
    unscoped_objects = UnscopedTenantManager()
    objects = TenantManager()

    # Set by services before a save so that django-simple-history records who acted.
    _history_user: object

    class Meta:
        abstract = True
        default_manager_name = "unscoped_objects"

    @classmethod
    def check(cls, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if cls._meta.default_manager_name != "unscoped_objects" or not isinstance(
            cls._meta.default_manager, UnscopedTenantManager
        ):
            errors.append(
                checks.Error(
                    "A tenant model's default manager must be the unscoped one, for Django's "
                    "internals; `objects` stays the strict one.",
                    hint="Declare `class Meta(TenantModel.Meta):`.",
                    obj=cls,
                    id="portal.E001",
                )
            )
        if not isinstance(cls._meta.managers_map.get("objects"), TenantManager):
            errors.append(
                checks.Error(
                    "A tenant model's `objects` must be the strict TenantManager.",
                    obj=cls,
                    id="portal.E002",
                )
            )
        return errors
