"""The console's extension points, filled in by the apps above scoring (benefits).

Scoring may not import benefits (import-linter), yet the console shows designation status
(enrolled, renewal due, lapsed) beside the scores. An app registers here, from its
`AppConfig.ready`, what it adds:

- `ConsoleColumn`: a column of the organization list (a value per organization of the page,
  one query for the page, so the list stays a constant number of queries);
- `ConsoleFilter`: a filter of the organization list (a GET parameter narrowing the queryset);
- `ConsoleDesignationCount`: counts per designation on the statistics page (one or more
  columns from one read);
- `ConsolePanel`: a section of the console's organization page.

Registering the same key twice replaces the entry (ready() may run more than once in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise

from portal.models import Organization

Label = str | Promise  # a lazy translation, usually


@dataclass(frozen=True)
class ConsoleColumn:
    """A column of the organization list: `values` maps the page's organization ids to text."""

    key: str
    label: Label
    values: Callable[[Sequence[int]], Mapping[int, str]]
    order: int = 100


@dataclass(frozen=True)
class ConsoleFilter:
    """A filter of the organization list, read from the GET parameter `key`.

    `choices` (value, lazy label) make it a select; without them it is a number input
    (`apply` receives the text and raises ValueError for a value it cannot take).
    """

    key: str
    label: Label
    apply: Callable[[QuerySet[Organization], str], QuerySet[Organization]]
    choices: tuple[tuple[str, Label], ...] = ()
    order: int = 100


@dataclass(frozen=True)
class ConsoleDesignationCount:
    """Columns of the statistics page's designation table: `columns` are (column key, lazy
    label) pairs, `counts` gives column key → designation id → organizations in one read."""

    key: str
    columns: tuple[tuple[str, Label], ...]
    counts: Callable[[], Mapping[str, Mapping[int, int]]]
    order: int = 100


@dataclass(frozen=True)
class ConsolePanel:
    """A section of the console's organization page: a template and its context."""

    key: str
    template_name: str
    context: Callable[[Organization], Mapping[str, Any]]
    order: int = 100


_columns: dict[str, ConsoleColumn] = {}
_filters: dict[str, ConsoleFilter] = {}
_counts: dict[str, ConsoleDesignationCount] = {}
_panels: dict[str, ConsolePanel] = {}


def register_console_column(column: ConsoleColumn) -> None:
    _columns[column.key] = column


def register_console_filter(console_filter: ConsoleFilter) -> None:
    _filters[console_filter.key] = console_filter


def register_console_designation_count(count: ConsoleDesignationCount) -> None:
    _counts[count.key] = count


def register_console_panel(panel: ConsolePanel) -> None:
    _panels[panel.key] = panel


def console_columns() -> list[ConsoleColumn]:
    return sorted(_columns.values(), key=lambda item: (item.order, item.key))


def console_filters() -> list[ConsoleFilter]:
    return sorted(_filters.values(), key=lambda item: (item.order, item.key))


def console_designation_counts() -> list[ConsoleDesignationCount]:
    return sorted(_counts.values(), key=lambda item: (item.order, item.key))


def console_panels() -> list[ConsolePanel]:
    return sorted(_panels.values(), key=lambda item: (item.order, item.key))
