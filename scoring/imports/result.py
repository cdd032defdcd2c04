"""What an import reports: counts, the affected organizations and every bad row."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad value: where it is (line, column), what it was, and why it is refused."""

    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        if not self.column:
            return f"line {self.line}: {self.reason}"
        return f'line {self.line}, column "{self.column}": "{self.value}" — {self.reason}'


@dataclass(slots=True)
class ImportResult:
    """The outcome of one import: nothing was written unless `ok`."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    organization_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready report (the bulk API and the upload page render this)."""
        return {
            "kind": self.kind,
            "ok": self.ok,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "organization_ids": list(self.organization_ids),
            "errors": [asdict(error) for error in self.errors],
        }
