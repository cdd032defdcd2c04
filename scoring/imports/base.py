"""The parts every kind shares: reading a row's cells, batched reference lookups, counts."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from django.db.models import Model
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from portal.models import Organization, User
from scoring.imports.fields import FieldError
from scoring.imports.result import RowError
from scoring.imports.specs import KindSpec
from scoring.models import Association, Customer, Workload

T = TypeVar("T")
RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")
ModelT = TypeVar("ModelT", bound=Model)

UNKNOWN_PARTNER = "unknown partner (no organization has this Partner ID)"

# Reference lookups and writes work on chunks of this many rows / keys: few queries, bounded
# memory, and well under the bind-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
CHUNK_SIZE = 5000


def chunked(items: Iterable[T], size: int = CHUNK_SIZE) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RowReader:
    """One row's cells read through the parsers; every bad cell becomes a RowError."""

    __slots__ = ("errors", "line", "ok", "reported", "values")

    def __init__(
        self,
        line: int,
        values: dict[str, str],
        errors: list[RowError],
        *,
        reported: frozenset[str] = frozenset(),
    ) -> None:
        self.line = line
        self.values = values
        self.errors = errors
        # Columns the source already reported (a JSON object as a value): one error each.
        self.reported = reported
        self.ok = not reported

    def given(self, column: str) -> bool:
        """Whether the row gives the column at all (blank counts as given)."""
        return column in self.values

    def required(self, column: str, parse: Callable[[str], T]) -> T | None:
        """A value that must be present and non-blank."""
        raw = self.values.get(column)
        if raw is None and column in self.reported:
            return None
        if raw is None:
            self.fail(column, "", "missing column")
            return None
        if raw == "":
            self.fail(column, "", "required, may not be blank")
            return None
        return self._parse(column, raw, parse)

    def optional(self, column: str, parse: Callable[[str], T], *, blank: T) -> T:
        """A value that may be absent or blank, meaning `blank`."""
        raw = self.values.get(column, "")
        if raw == "":
            return blank
        parsed = self._parse(column, raw, parse)
        return blank if parsed is None else parsed

    def raw(self, column: str) -> str:
        return self.values.get(column, "")

    def fail(self, column: str, value: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, value, reason))
        self.ok = False

    def _parse(self, column: str, raw: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(raw)
        except FieldError as exc:
            self.fail(column, raw, exc.reason)
            return None


@dataclass(slots=True)
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(slots=True)
class Upserted(Generic[ModelT]):
    """What one chunk's upsert did: the instances it created and those it changed."""

    new: list[ModelT] = field(default_factory=list)
    changed: list[ModelT] = field(default_factory=list)

    def counts(self, rows: int) -> Counts:
        return Counts(len(self.new), len(self.changed), rows - len(self.new) - len(self.changed))


class KindImporter(Generic[RowT]):
    """How one kind is parsed, checked against the database, keyed and written.

    The pipeline calls `parse` per row (no database), `resolve` per chunk (batched reference
    checks), `natural_key` per resolved row (duplicates), then, when the whole batch is clean,
    `resolve` and `write` again per chunk inside one transaction.
    """

    spec: ClassVar[KindSpec]

    def __init__(self, *, actor: Any = None) -> None:
        self.actor = actor

    def parse(self, row: RowReader) -> RowT | None:
        raise NotImplementedError

    def resolve(
        self, rows: list[tuple[int, RowT]], errors: list[RowError]
    ) -> list[tuple[int, RowT]]:
        """The rows whose references exist; a RowError for each that does not."""
        return rows

    def natural_key(self, row: RowT) -> Hashable:
        raise NotImplementedError

    def shown_key(self, row: RowT) -> str:
        raise NotImplementedError

    def write(self, rows: list[RowT]) -> Counts:
        raise NotImplementedError

    def affected_organization_ids(self) -> set[int]:
        """The organizations whose scores the written rows change."""
        raise NotImplementedError

    def on_written(self, rows: int) -> None:
        """Told how many rows have been written so far (a progress display listens here)."""

    @property
    def history_user(self) -> Any:
        """The actor, when it is a user the audit history can point at."""
        return self.actor if isinstance(self.actor, User) else None

    def upsert(
        self,
        model: type[ModelT],
        items: Iterable[ItemT],
        *,
        stored: Mapping[Any, ModelT],
        key: Callable[[ItemT], Hashable],
        values: Callable[[ItemT], dict[str, Any]],
        creation: Callable[[ItemT], dict[str, Any]],
        fields: list[str],
        audited: bool = True,
    ) -> Upserted[ModelT]:
        """Create what is not stored, update what differs, leave the rest; all in bulk.

        `stored` holds the instances already in the database by natural key; `values` are the
        fields an item sets (a column the file leaves out is not among them, so an update keeps
        it and a new instance gets the model's default); `creation` adds the fields set only when
        an instance is created (its key, its parents, a derived slug); `fields` are those an
        update may write. Audited models are written with their history, as the actor.
        """
        upserted: Upserted[ModelT] = Upserted()
        for item in items:
            instance = stored.get(key(item))
            if instance is None:
                upserted.new.append(model(**creation(item), **values(item)))
                continue
            differs = False
            for name, value in values(item).items():
                if getattr(instance, name) != value:
                    setattr(instance, name, value)
                    differs = True
            if differs:
                upserted.changed.append(instance)
        if audited:
            self.save_with_history(model, upserted.new, upserted.changed, fields)
        else:
            model._default_manager.bulk_create(upserted.new)
            if upserted.changed:
                model._default_manager.bulk_update(upserted.changed, fields)
        return upserted

    def save_with_history(
        self, model: type[Model], new: list[Any], changed: list[Any], fields: list[str]
    ) -> None:
        """Insert the new rows and update the changed ones in bulk, audited as the actor."""
        if new:
            bulk_create_with_history(new, model, default_user=self.history_user)
        if changed:
            bulk_update_with_history(changed, model, fields, default_user=self.history_user)


class OrganizationLookup:
    """Partner ID → organization id, loaded in chunks and remembered across chunks."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._missing: set[str] = set()

    def load(self, partner_ids: Iterable[str]) -> None:
        wanted = {p for p in partner_ids if p not in self._ids and p not in self._missing}
        for chunk in chunked(sorted(wanted)):
            found = dict(
                Organization.objects.unscoped()
                .filter(partner_id__in=chunk)
                .values_list("partner_id", "id")
            )
            self._ids.update(found)
            self._missing.update(set(chunk) - found.keys())

    def get(self, partner_id: str) -> int | None:
        return self._ids.get(partner_id)


class CustomerLookup:
    """(platform, customer id) → customer id, loaded in chunks and remembered across chunks."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], int] = {}
        self._missing: set[tuple[str, str]] = set()

    def load(self, keys: Iterable[tuple[str, str]]) -> None:
        wanted: dict[str, set[str]] = {}
        for key in keys:
            if key not in self.ids and key not in self._missing:
                wanted.setdefault(key[0], set()).add(key[1])
        for platform, customer_ids in wanted.items():
            for chunk in chunked(sorted(customer_ids)):
                rows = Customer.objects.filter(platform=platform, customer_id__in=chunk)
                found = {
                    (platform, customer_id): pk
                    for pk, customer_id in rows.values_list("id", "customer_id")
                }
                self.ids.update(found)
                self._missing.update({(platform, c) for c in chunk} - found.keys())

    def get(self, platform: str, customer_id: str) -> int | None:
        return self.ids.get((platform, customer_id))


def organizations_of_customers(customer_ids: Iterable[int]) -> set[int]:
    """The organizations associated (any type, any time) with any of these customers."""
    organization_ids: set[int] = set()
    for chunk in chunked(sorted(set(customer_ids))):
        organization_ids.update(
            Association.objects.unscoped()
            .filter(customer_id__in=chunk)
            .order_by()  # the model's ordering would widen the DISTINCT
            .values_list("organization_id", flat=True)
            .distinct()
        )
    return organization_ids


def resolve_organizations(
    lookup: OrganizationLookup, rows: list[tuple[int, Any]], errors: list[RowError]
) -> list[tuple[int, Any]]:
    """Rows whose Partner ID names an organization, with `organization_id` filled in."""
    lookup.load(row.partner_id for _, row in rows)
    resolved = []
    for line, row in rows:
        organization_id = lookup.get(row.partner_id)
        if organization_id is None:
            errors.append(RowError(line, "partner_id", row.partner_id, UNKNOWN_PARTNER))
            continue
        row.organization_id = organization_id
        resolved.append((line, row))
    return resolved


@dataclass(frozen=True, slots=True)
class CatalogWorkload:
    code: str
    platform: str
    kind: str
    index: int  # 1-based position, packs a workload into a compact duplicate-check key


def workload_catalog() -> dict[str, CatalogWorkload]:
    """Lower-cased workload code → the catalog workload (codes match case-insensitively)."""
    rows = Workload.objects.order_by("id").values_list("code", "platform", "kind")
    return {
        code.lower(): CatalogWorkload(code, platform, kind, index)
        for index, (code, platform, kind) in enumerate(rows, start=1)
    }


class WorkloadCatalogMixin:
    """Importers whose rows name a workload of the catalog (associations, usage)."""

    @cached_property
    def _workloads(self) -> dict[str, CatalogWorkload]:
        return workload_catalog()

    def load_catalogs(self) -> None:
        """Read what parsing looks up now, before a COPY holds the connection."""
        self._workloads  # noqa: B018  # a cached property: reading it loads it

    def _parse_workload(self, raw: str) -> CatalogWorkload:
        workload = self._workloads.get(raw.lower())
        if workload is None:
            raise FieldError("unknown workload (not in the workload catalog)")
        return workload


def resolve_customers(
    lookup: CustomerLookup, rows: list[tuple[int, Any]], errors: list[RowError]
) -> list[tuple[int, Any]]:
    """Rows whose (platform, customer_id) names a customer, with `customer_pk` filled in."""
    lookup.load((row.platform, row.customer_id) for _, row in rows)
    resolved = []
    for line, row in rows:
        customer_pk = lookup.get(row.platform, row.customer_id)
        if customer_pk is None:
            errors.append(unknown_customer_error(line, row.platform, row.customer_id))
            continue
        row.customer_pk = customer_pk
        resolved.append((line, row))
    return resolved


def unknown_customer_error(line: int, platform: str, customer_id: str) -> RowError:
    reason = f"unknown customer (no {platform} customer has this id; load it first)"
    return RowError(line, "customer_id", customer_id, reason)


def duplicate_error(importer: KindImporter[Any], line: int, row: Any, earlier: int) -> RowError:
    """A row whose natural key an earlier row of the batch already has."""
    key_columns = ", ".join(importer.spec.key)
    return RowError(line, key_columns, importer.shown_key(row), f"duplicate of line {earlier}")
