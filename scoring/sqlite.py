"""SQLite counterparts of the PostgreSQL functions the measures SQL uses."""

from __future__ import annotations

from typing import Any


class BitOr:
    """BIT_OR(x): the bitwise OR of the group's integers, as PostgreSQL's aggregate."""

    def __init__(self) -> None:
        self.value: int | None = None

    def step(self, value: int | None) -> None:
        if value is not None:
            self.value = int(value) if self.value is None else self.value | int(value)

    def finalize(self) -> int | None:
        return self.value


def register_functions(sender: object, connection: Any, **kwargs: object) -> None:
    """connection_created receiver: add the aggregates to every new SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("BIT_OR", 1, BitOr)
