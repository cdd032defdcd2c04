"""Typed parsers for the values of data-formats.md: each returns the value or raises FieldError.

Parsers take the cell as a stripped, non-blank string; blank cells are handled by the row reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import CharField, DecimalField, EmailField, Model
from django.utils import timezone

from scoring.models import Platform, Usage


class FieldError(ValueError):
    """A cell that does not parse; the message is the reason shown to the user."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


# ISO 3166-1 alpha-2, the officially assigned codes.
# fmt: off
ISO_COUNTRIES = frozenset(
    [
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
        "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
        "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
        "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
        "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
        "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
        "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
        "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
        "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
        "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
        "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
        "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
        "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
        "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
        "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
        "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
    ]
)
# fmt: on

_PARTNER_ID = re.compile(r"[0-9]{4,20}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")
_INTEGER = re.compile(r"-?[0-9]+")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TPID = re.compile(r"[0-9]{1,20}")

# Plain strings: enum look-ups cost more than the parsing itself on a million rows.
PLATFORMS = frozenset(Platform.values)
AZURE = Platform.AZURE.value


def _decimal_limits(field: DecimalField) -> tuple[int, int, Decimal]:
    """Digits before the point, places after it, and the largest value the column holds."""
    places = field.decimal_places
    whole = field.max_digits - places
    return whole, places, Decimal(10) ** whole - Decimal(1).scaleb(-places)


# What Usage.value (the column every figure of a usage file goes to) can hold.
VALUE_DIGITS, VALUE_PLACES, MAX_VALUE = _decimal_limits(Usage._meta.get_field("value"))  # type: ignore[arg-type]  # a DecimalField

# The earliest values that can be real data; anything older is a typo (0024 for 2024) or a
# spreadsheet's zero date (1899-12-30). Microsoft's certification program began in the early
# 1990s. The program's telemetry (CSP, CPOR, PAL, Azure consumed revenue) and the partner records
# it comes with do not go back before 2015, and scores read only the last few years of it.
EARLIEST_CERTIFICATION_DATE = date(1990, 1, 1)
EARLIEST_PROGRAM_DATE = date(2015, 1, 1)
# The latest: no program date is this far ahead, and month arithmetic stays clear of year 9999.
LATEST_DATE = date(2099, 12, 31)


def import_today() -> date:
    """Today in the portal's time zone: the one clock of every "not in the future" check."""
    return timezone.localdate()


def parse_partner_id(raw: str) -> str:
    """A Partner ID is 4 to 20 digits."""
    if not _PARTNER_ID.fullmatch(raw):
        raise FieldError("not a Partner ID (4 to 20 digits)")
    return raw


def parse_date(raw: str) -> date:
    """Dates are YYYY-MM-DD, up to 2099."""
    if not _DATE.fullmatch(raw):
        raise FieldError("not a date (YYYY-MM-DD)")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise FieldError("not a date (YYYY-MM-DD)") from None
    if value > LATEST_DATE:
        raise FieldError(f"too far in the future (after {LATEST_DATE.year})")
    return value


def date_parser(earliest: date) -> Callable[[str], date]:
    """Dates from `earliest` on (see EARLIEST_CERTIFICATION_DATE for why there is a floor)."""

    def parse_date_from(raw: str) -> date:
        value = parse_date(raw)
        if value < earliest:
            raise FieldError(f"before {earliest.isoformat()} (no real date is this old)")
        return value

    return parse_date_from


@lru_cache(maxsize=4096)
def parse_month(raw: str) -> date:
    """Months are YYYY-MM, stored as the 1st of the month; telemetry starts in 2015."""
    # Cached: a usage file repeats a few dozen months over a million rows.
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise FieldError("not a month (YYYY-MM)")
    value = date(int(match[1]), int(match[2]), 1)
    if value < EARLIEST_PROGRAM_DATE:
        raise FieldError(f"before {EARLIEST_PROGRAM_DATE:%Y-%m} (no telemetry is this old)")
    if value > LATEST_DATE:
        raise FieldError(f"too far in the future (after {LATEST_DATE.year})")
    return value


def parse_money(raw: str) -> Decimal:
    """Money is USD, non-negative, with at most the places the value column keeps (2)."""
    match = _DECIMAL.fullmatch(raw)
    if not match:
        raise FieldError("not an amount (a decimal number such as 1250.50)")
    if raw.startswith("-") and raw.strip("-0.") != "":
        raise FieldError("negative amount (amounts are 0 or more)")
    if match[1] is not None and len(match[1]) > VALUE_PLACES:
        raise FieldError(f"more than {VALUE_PLACES} decimal places")
    if len(raw.lstrip("-").split(".")[0].lstrip("0")) > VALUE_DIGITS:
        raise FieldError(f"too large (at most {VALUE_DIGITS} digits before the decimal point)")
    return abs(Decimal(raw))


def parse_count(raw: str) -> Decimal:
    """Counts are non-negative whole numbers, as many digits as the value column holds."""
    if not _INTEGER.fullmatch(raw):
        raise FieldError("not a count (a whole number such as 250)")
    digits = raw.lstrip("-").lstrip("0")
    if raw.startswith("-") and digits:
        raise FieldError("negative count (counts are 0 or more)")
    # Measured before int(): Python refuses to convert more than 4,300 digits.
    if len(digits) > VALUE_DIGITS:
        raise FieldError(f"too large (at most {VALUE_DIGITS} digits)")
    return Decimal(int(raw))


# The plainest spellings of a count and of an amount, by shape: the text with every digit
# written 9 (`translate(text, '0123456789', '9999999999')` in SQL). Every text of these shapes
# `parse_count` / `parse_money` accept, as the number PostgreSQL's cast to numeric reads
# (tests/scoring/test_imports_setbased.py checks each shape). The set-based usage import casts
# such cells in SQL; a cell of any other shape makes it read the file row by row, through the
# parsers.
PLAIN_SHAPES: dict[Callable[[str], Decimal], frozenset[str]] = {
    parse_count: frozenset("9" * digits for digits in range(1, VALUE_DIGITS + 1)),
    parse_money: frozenset(
        "9" * digits + ("." + "9" * places if places else "")
        for digits in range(1, VALUE_DIGITS + 1)
        for places in range(VALUE_PLACES + 1)
    ),
}


def parse_bool(raw: str) -> bool:
    """Booleans are true or false."""
    lowered = raw.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise FieldError("not a boolean (true or false)")


def parse_country(raw: str) -> str:
    """Countries are ISO 3166-1 alpha-2 codes (JP, US, …)."""
    code = raw.upper()
    if code not in ISO_COUNTRIES:
        raise FieldError("not an ISO 3166-1 alpha-2 country code (e.g. JP)")
    return code


def parse_platform(raw: str) -> str:
    """The platform is m365, azure or dynamics."""
    platform = raw.lower()
    if platform not in PLATFORMS:
        raise FieldError("unknown platform (m365, azure or dynamics)")
    return platform


@lru_cache(maxsize=65536)
def parse_customer_id(raw: str, *, platform: str) -> str:
    """M365/Dynamics customers are tenant GUIDs (stored lower-case); Azure customers are TPIDs."""
    # Cached: a usage file names each customer on dozens of rows.
    if platform == AZURE:
        if not _TPID.fullmatch(raw):
            raise FieldError("not a TPID (the numeric id of an Azure customer)")
        # One spelling per customer: "0042" and "42" are the same TPID.
        return str(int(raw))
    if not _GUID.fullmatch(raw):
        raise FieldError("not a tenant GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return raw.lower()


def email_parser(max_length: int) -> Callable[[str], str]:
    """An e-mail address of at most `max_length` characters."""

    def parse_email(raw: str) -> str:
        try:
            validate_email(raw)
        except ValidationError:
            raise FieldError("not an e-mail address") from None
        if len(raw) > max_length:
            raise FieldError(f"longer than {max_length} characters")
        return raw

    return parse_email


def text_parser(max_length: int) -> Callable[[str], str]:
    """A free-text value of at most `max_length` characters."""

    def parse_text(raw: str) -> str:
        if len(raw) > max_length:
            raise FieldError(f"longer than {max_length} characters")
        return raw

    return parse_text


def model_text(model: type[Model], name: str) -> Callable[[str], str]:
    """A parser for a text or e-mail field of a model, as long as its column allows."""
    field = model._meta.get_field(name)
    if not isinstance(field, CharField) or not field.max_length:
        raise TypeError(f"{model.__name__}.{name} is not a text field with a max_length")
    if isinstance(field, EmailField):
        return email_parser(field.max_length)
    return text_parser(field.max_length)
