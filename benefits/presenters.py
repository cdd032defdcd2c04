"""Display text of the benefits pages, in the visitor's language (no database)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from benefits.models import AnnualFee, BenefitProduct, DesignationStatus
from benefits.selectors import Grant

STATUS_BADGES = {
    DesignationStatus.IN_PROGRESS: "badge--pending",
    DesignationStatus.QUALIFIED: "badge--ok",
    DesignationStatus.ENROLLED: "badge--admin",
    DesignationStatus.RENEWED: "badge--admin",
    DesignationStatus.RENEWAL_DUE: "badge--pending",
    DesignationStatus.LAPSED: "",
}


def _number(quantity: Decimal) -> str:
    whole = quantity.to_integral_value()
    return f"{int(whole):,}" if quantity == whole else f"{quantity:,.2f}"


def quantity_text(quantity: Decimal | None, unit: str) -> str:
    """ "$6,000 per year", "25 licenses", "included" — never a number that was not published."""
    Unit = BenefitProduct.Unit
    if quantity is None:
        if unit == Unit.INCLUDED:
            return _("included")
        return _("included (quantity not published)")
    amount = _number(quantity)
    count = int(quantity) if quantity == quantity.to_integral_value() else 2
    if unit == Unit.USD_CREDIT_YEAR:
        return _("$%(amount)s per year") % {"amount": amount}
    if unit == Unit.USD_CREDIT_MONTH:
        return _("$%(amount)s per month") % {"amount": amount}
    if unit == Unit.LICENSES:
        return ngettext("%(amount)s license", "%(amount)s licenses", count) % {"amount": amount}
    if unit == Unit.USERS:
        return ngettext("%(amount)s user", "%(amount)s users", count) % {"amount": amount}
    if unit == Unit.SANDBOX:
        return ngettext("%(amount)s sandbox", "%(amount)s sandboxes", count) % {"amount": amount}
    if unit == Unit.HOURS:
        return ngettext("%(amount)s hour", "%(amount)s hours", count) % {"amount": amount}
    if unit == Unit.INCIDENTS:
        return ngettext("%(amount)s incident", "%(amount)s incidents", count) % {"amount": amount}
    if unit == Unit.ON_PREMISES_LICENSES:
        return ngettext(
            "%(amount)s on-premises license", "%(amount)s on-premises licenses", count
        ) % {"amount": amount}
    return _("included")


def addition_text(quantity: Decimal | None, unit: str) -> str:
    """An increase: "+$9,000 per year"; a newly included product reads as included."""
    text = quantity_text(quantity, unit)
    return f"+{text}" if quantity is not None else text


@dataclass(frozen=True)
class GrantRow:
    code: str
    name: str
    amount: str
    detail: str
    sources: str


def grant_rows(grants: Iterable[Grant], *, additions: bool = False) -> list[GrantRow]:
    text = addition_text if additions else quantity_text
    return [
        GrantRow(
            code=grant.product.code,
            name=grant.product.display_name,
            amount=text(grant.quantity, grant.product.unit),
            detail=", ".join(grant.details),
            sources=", ".join(grant.sources),
        )
        for grant in grants
    ]


def fee_text(fee: AnnualFee | None) -> str:
    """ "US$4,730 a year", or that the amount is not published."""
    if fee is None or fee.amount is None:
        return _("fee not published (staff data)")
    return _("%(currency)s %(amount)s a year") % {
        "currency": fee.currency,
        "amount": _number(fee.amount),
    }


def status_badge(status: str) -> str:
    return STATUS_BADGES.get(DesignationStatus(status), "")


def notification_text(kind: str, params: dict[str, Any]) -> str:
    """One line telling the event, in the active language."""
    from benefits.models import NotificationKind as Kind

    japanese = (get_language() or "en").split("-")[0] == "ja"
    name = params.get("designation_name_ja") if japanese else None
    values = {**params, "designation": name or params.get("designation_name", "")}
    texts = {
        Kind.QUALIFIED: _("%(designation)s qualifies (%(on)s): an admin can enrol it."),
        Kind.ENROLLED: _("%(designation)s is enrolled (%(on)s)."),
        Kind.RENEWAL_DUE: _("%(designation)s: renewal due (%(on)s)."),
        Kind.LAPSED: _("%(designation)s lapsed (%(on)s)."),
        Kind.CERTIFICATION_EXPIRING: _(
            "%(certification)s of %(person)s expires on %(expires_on)s."
        ),
        Kind.RENEWAL_WINDOW_OPEN: _(
            "Your renewal window is open after the anniversary %(anniversary)s, until "
            "%(closes_on)s."
        ),
        Kind.RENEWAL_CHOICE_DUE: _("Choose your renewal option by %(closes_on)s."),
    }
    template = texts.get(Kind(kind)) if kind in Kind.values else None
    try:
        return template % values if template else kind
    except (KeyError, TypeError, ValueError):
        return str(template)
