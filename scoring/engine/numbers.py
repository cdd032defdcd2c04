"""Exact number handling shared by the rule and scoring modules."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

Number: TypeAlias = Fraction | int | Decimal
"""A raw number the engine accepts: floats are refused because they are not exact."""

USD = "usd"
COUNT = "count"
USERS = "users"
PERCENT = "percent"
UNITS: frozenset[str] = frozenset({COUNT, USD, USERS, PERCENT})


def to_fraction(value: object, what: str) -> Fraction:
    """Convert an int, Decimal or Fraction exactly to a Fraction; anything else is a TypeError."""
    # bool is an int subclass, but True as a measure is always a caller bug.
    if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction):
        raise TypeError(
            f"{what}: expected int, Decimal or Fraction, got {type(value).__name__} {value!r}"
            " (floats are refused because points must be computed exactly)"
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{what}: {value} is not a finite number")
    return Fraction(value)


def format_amount(amount: Fraction, unit: str) -> str:
    """Round up to a whole number and add thousands separators, with "$" for usd: "$8,300", "4"."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {sorted(UNITS)}")
    # Rounding up keeps a gap honest: "$8,299.50 more" must never read as "$8,299".
    whole = math.ceil(amount)
    sign = "-" if whole < 0 else ""
    currency = "$" if unit == USD else ""
    return f"{sign}{currency}{abs(whole):,}"
