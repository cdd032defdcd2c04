"""CSV that the portal writes, safe to open in a spreadsheet (OWASP: CSV injection).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and some strip a
leading tab or carriage return first), so a partner's organization name `=HYPERLINK(...)` in an
export would run on the computer of whoever opens it. Every CSV writer of the portal goes through
this module, which prefixes such a text cell with `'`: spreadsheets show the text as it is.

Only text is neutralized. A number (int, float, Decimal) is written as a number: `-5` written
from the number -5 is a negative amount, not a formula, and stays one for whoever reads the file.
Text that merely looks like a negative number ("-5") is prefixed like any other text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralized(value: object) -> object:
    """The cell as a spreadsheet should take it: text that would start a formula prefixed."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose text cells cannot start a formula."""

    def __init__(self, stream: _Writable, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([neutralized(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """csv.DictWriter whose text cells (the header's too) cannot start a formula."""

    def __init__(self, stream: _Writable, fieldnames: Sequence[str], **options: Any) -> None:
        self._fieldnames = list(fieldnames)
        self._writer = SafeWriter(stream, **options)

    def writeheader(self) -> None:
        self._writer.writerow(self._fieldnames)

    def writerow(self, row: Mapping[str, object]) -> None:
        unknown = row.keys() - set(self._fieldnames)
        if unknown:
            raise ValueError(
                f"dict contains fields not in fieldnames: {', '.join(sorted(unknown))}"
            )
        self._writer.writerow([row.get(name, "") for name in self._fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, object]]) -> None:
        for row in rows:
            self.writerow(row)
