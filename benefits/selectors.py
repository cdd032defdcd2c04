"""Reads of the benefits app: program terms in force, what an organization holds on a date,
what it is granted, and how its benefits are used.

`holdings_on` is the one answer to "what does this organization hold on date D"; every other
read (entitlements, pages, renewal) starts from it. Scores are read only as the stored daily
`qualified` flags of the snapshots (scoring.selectors), never recomputed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery

from benefits.models import (
    AnnualFee,
    BenefitActivation,
    BenefitAssignment,
    BenefitPackage,
    BenefitProduct,
    DesignationStatus,
    DesignationStatusChange,
    DesignationTerm,
    Grantor,
    Notification,
    NotificationKind,
    NotificationPreference,
    PackageItem,
    QualificationWindowRule,
    RenewalChoice,
    RenewalOption,
    SpecializationArea,
    SpecializationAvailability,
    SpecializationAward,
)
from portal.models import (
    HeldCertification,
    Membership,
    Organization,
    OrganizationLegacyCompetency,
    Person,
    User,
)
from scoring.selectors import (
    designation_list,
    program_date_get,
    snapshot_qualified_days,
    specialization_catalog_list,
)

if TYPE_CHECKING:  # annotations only: scoring is read through scoring.selectors
    from scoring.models import Designation, Specialization

GA_CODE = "general-availability"
LEGACY_CUTOFF_CODE = "legacy-competency-last-day"
HELD_STATUSES = frozenset(
    {DesignationStatus.ENROLLED, DesignationStatus.RENEWED, DesignationStatus.RENEWAL_DUE}
)


# --- program terms in force ------------------------------------------------------------------


def add_years(day: date, years: int = 1) -> date:
    """The same calendar day `years` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _months_back(day: date, months: int) -> date:
    """The first day of the month `months` before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


def general_availability() -> date:
    """GA of the program (program data; the seed's 2022-10-03 when staff removed the row)."""
    return program_date_get(code=GA_CODE) or date(2022, 10, 3)


def window_rules() -> list[QualificationWindowRule]:
    """Every qualification-window rule, newest first (a handful of rows: read once per page)."""
    return list(QualificationWindowRule.objects.order_by("-effective_from"))


def window_rule_in_force(
    *, on: date, rules: list[QualificationWindowRule] | None = None
) -> QualificationWindowRule:
    """The qualification-window rule in force on a date (the earliest one before the first)."""
    rules = window_rules() if rules is None else rules
    for rule in rules:
        if rule.effective_from <= on:
            return rule
    if rules:
        return rules[-1]
    return QualificationWindowRule(
        effective_from=on,
        kind=QualificationWindowRule.Kind.ROLLING_MONTHS,
        previous_months=5,
        renewal_window_days=30,
    )


def qualification_window(
    *, on: date, rule: QualificationWindowRule, ga: date, anniversary: date | None = None
) -> tuple[date, date]:
    """The days whose qualified flag counts on `on`.

    Not enrolled (`anniversary` None): under the 30-days rule any day since GA (first
    attainment), under the rolling rule the current month and the previous full months. For the
    renewal of an anniversary: the days before it, or its month and the previous full months
    plus the renewal window after it, never beyond `on`.
    """
    if anniversary is None:
        if rule.kind == QualificationWindowRule.Kind.DAYS_BEFORE_ANNIVERSARY:
            return ga, on
        return _months_back(on, rule.previous_months or 0), on
    if rule.kind == QualificationWindowRule.Kind.DAYS_BEFORE_ANNIVERSARY:
        start = anniversary - timedelta(days=rule.days_before_anniversary or 0)
        return start, min(on, anniversary)
    end = anniversary + timedelta(days=rule.renewal_window_days)
    return _months_back(anniversary, rule.previous_months or 0), min(on, end)


def annual_fee_in_force(*, offer: str, on: date) -> AnnualFee | None:
    """The fee row in force for an offer on a date (its `available` says if it is offered)."""
    return AnnualFee.objects.filter(offer=offer, effective_from__lte=on).first()


def package_in_force(
    packages: list[BenefitPackage],
    *,
    on: date,
    designation_id: int | None = None,
    specialization_id: int | None = None,
    grantor: str | None = None,
) -> BenefitPackage | None:
    """The latest version on or before `on` among `packages` (newest first) for a grantor."""
    for package in packages:
        if package.effective_from > on:
            continue
        if designation_id is not None and package.designation_id != designation_id:
            continue
        if specialization_id is not None and package.specialization_id != specialization_id:
            continue
        if grantor is not None and package.grantor != grantor:
            continue
        return package
    return None


def package_catalog() -> list[BenefitPackage]:
    """Every package version with its items and products, newest version first (two queries)."""
    return list(
        BenefitPackage.objects.prefetch_related("items__product").order_by(
            "code", "-effective_from"
        )
    )


# --- what an organization holds --------------------------------------------------------------


@dataclass(frozen=True)
class DesignationHolding:
    designation: Designation
    status: str
    term: DesignationTerm | None  # the term held on the date (or in its renewal window)
    window: tuple[date, date]  # the qualification window that applies to the status
    qualified_in_window: bool
    qualified_days: tuple[date, ...] = ()

    @property
    def held(self) -> bool:
        return self.status in HELD_STATUSES

    @property
    def status_label(self) -> str:
        return str(DesignationStatus(self.status).label)


@dataclass(frozen=True)
class Holdings:
    organization: Organization
    on: date
    designations: tuple[DesignationHolding, ...]
    specializations: tuple[SpecializationAward, ...]
    anniversary: date | None
    ga: date
    renewal_window_days: int

    @property
    def held(self) -> list[DesignationHolding]:
        return [holding for holding in self.designations if holding.held]

    @property
    def microsoft_cloud(self) -> bool:
        """All six designations held: the Microsoft Cloud solutions partner badge."""
        return bool(self.designations) and all(h.held for h in self.designations)

    def holding(self, designation_code: str) -> DesignationHolding:
        return next(h for h in self.designations if h.designation.code == designation_code)


def designation_terms(*, organization: Organization) -> list[DesignationTerm]:
    return list(
        DesignationTerm.objects.for_org(organization)
        .select_related("designation")
        .order_by("starts_on", "pk")
    )


def holdings_on(*, organization: Organization, on: date) -> Holdings:
    """Every designation's status for the organization on `on`, the specializations held and
    the shared anniversary: what the organization holds on that date."""
    ga = general_availability()
    rules = window_rules()
    rule_now = window_rule_in_force(on=on, rules=rules)
    terms = designation_terms(organization=organization)
    by_designation: dict[int, list[DesignationTerm]] = defaultdict(list)
    for term in terms:
        by_designation[term.designation_id].append(term)

    plans: list[tuple[Designation, str | None, DesignationTerm | None, tuple[date, date]]] = []
    for designation in designation_list():
        own = by_designation.get(designation.pk, [])
        current = next((t for t in reversed(own) if t.starts_on <= on <= t.ends_on), None)
        status: str | None = None
        if current is not None:
            status = (
                DesignationStatus.RENEWED
                if current.kind == DesignationTerm.Kind.RENEWAL
                else DesignationStatus.ENROLLED
            )
        else:
            ended = [t for t in own if t.ends_on < on]
            last = ended[-1] if ended else None
            if last is not None:
                grace = window_rule_in_force(on=last.ends_on, rules=rules).renewal_window_days
                if on <= last.ends_on + timedelta(days=grace):
                    status, current = DesignationStatus.RENEWAL_DUE, last
        if current is not None:
            rule = window_rule_in_force(on=current.ends_on, rules=rules)
            window = qualification_window(on=on, rule=rule, ga=ga, anniversary=current.ends_on)
        else:
            window = qualification_window(on=on, rule=rule_now, ga=ga)
        plans.append((designation, status, current, window))

    starts = [window[0] for *_rest, window in plans if window[0] <= window[1]]
    qualified_days = (
        snapshot_qualified_days(organization=organization, start=min(starts), end=on)
        if starts
        else {}
    )

    holdings: list[DesignationHolding] = []
    for designation, status, current, (start, end) in plans:
        days = tuple(sorted(d for d in qualified_days.get(designation.pk, ()) if start <= d <= end))
        if status is None:
            if days:
                status = DesignationStatus.QUALIFIED
            elif by_designation.get(designation.pk):
                status = DesignationStatus.LAPSED
            else:
                status = DesignationStatus.IN_PROGRESS
        holdings.append(
            DesignationHolding(
                designation=designation,
                status=status,
                term=current,
                window=(start, end),
                qualified_in_window=bool(days),
                qualified_days=days,
            )
        )

    held_ids = {h.designation.pk for h in holdings if h.held}
    awards = [
        award
        for award in SpecializationAward.objects.for_org(organization)
        .select_related("specialization__designation")
        .filter(awarded_on__lte=on)
        .order_by("awarded_on", "pk")
        if (award.ends_on is None or on <= award.ends_on)
        and award.specialization.designation_id in held_ids
    ]
    held_terms = [h.term for h in holdings if h.held and h.term is not None]
    anniversary = (
        max(term.ends_on for term in held_terms) if held_terms else organization.renewal_date
    )
    return Holdings(
        organization=organization,
        on=on,
        designations=tuple(holdings),
        specializations=tuple(awards),
        anniversary=anniversary,
        ga=ga,
        renewal_window_days=rule_now.renewal_window_days,
    )


def status_history(*, organization: Organization, limit: int = 50) -> list[DesignationStatusChange]:
    """The organization's recorded status changes, newest first."""
    return list(
        DesignationStatusChange.objects.for_org(organization)
        .select_related("designation", "actor")
        .order_by("-changed_on", "-recorded_at")[:limit]
    )


def last_recorded_statuses(*, organization: Organization) -> dict[int, str]:
    """Designation id → the status last recorded in the history."""
    latest: dict[int, str] = {}
    for change in (
        DesignationStatusChange.objects.for_org(organization)
        .order_by("changed_on", "recorded_at", "pk")
        .values("designation_id", "status")
    ):
        latest[change["designation_id"]] = change["status"]
    return latest


# --- legacy competencies, transition ---------------------------------------------------------


def legacy_competencies_held(*, organization: Organization) -> list[OrganizationLegacyCompetency]:
    """The legacy competencies the organization held (none can be attained after 2022-09-30)."""
    return list(
        OrganizationLegacyCompetency.objects.for_org(organization)
        .select_related("competency")
        .prefetch_related("competency__designations")
        .order_by("competency__name")
    )


def legacy_grantor(legacy: list[OrganizationLegacyCompetency]) -> str | None:
    """Gold legacy benefits when any competency was gold, else silver; None without any."""
    if not legacy:
        return None
    if any(item.level == OrganizationLegacyCompetency.Level.GOLD for item in legacy):
        return Grantor.LEGACY_GOLD
    return Grantor.LEGACY_SILVER


def transition_anniversary(
    *, organization: Organization, terms: list[DesignationTerm], ga: date
) -> date | None:
    """The organization's first anniversary after GA, when it falls in the transition year."""
    limit = add_years(ga)
    candidates = [t.ends_on for t in terms if ga <= t.ends_on <= limit]
    if organization.renewal_date and ga <= organization.renewal_date <= limit:
        candidates.append(organization.renewal_date)
    return min(candidates) if candidates else None


# --- entitlements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    product: BenefitProduct
    quantity: Decimal | None  # None: included, quantity not published
    details: tuple[str, ...]
    sources: tuple[str, ...]  # the packages it comes from


@dataclass(frozen=True)
class Entitlements:
    holdings: Holdings
    option: str | None
    transition: bool  # the transition rule keeps the current (legacy) benefits
    packages: tuple[BenefitPackage, ...]
    grants: tuple[Grant, ...]
    year_ends_on: date | None

    @property
    def microsoft_cloud(self) -> bool:
        return self.holdings.microsoft_cloud

    @property
    def option_label(self) -> str:
        return str(RenewalOption(self.option).label) if self.option else ""

    def grant(self, product_code: str) -> Grant | None:
        return next((g for g in self.grants if g.product.code == product_code), None)

    def quantity(self, product_code: str) -> Decimal | None:
        grant = self.grant(product_code)
        return grant.quantity if grant else Decimal(0)


def renewal_choice_in_force(*, organization: Organization, on: date) -> RenewalChoice | None:
    """The choice that governs the benefit year `on` falls in (benefits continue into the next
    renewal window), or None."""
    choice = (
        RenewalChoice.objects.for_org(organization)
        .filter(anniversary__lt=on)
        .order_by("-anniversary")
        .first()
    )
    if choice is None:
        return None
    grace = window_rule_in_force(on=add_years(choice.anniversary)).renewal_window_days
    if on > add_years(choice.anniversary) + timedelta(days=grace):
        return None
    return choice


def stack_grants(
    items: list[tuple[BenefitPackage, PackageItem]],
) -> list[Grant]:
    """Combine the items of several packages per product by the product's stacking rule."""
    by_product: dict[int, list[tuple[BenefitPackage, PackageItem]]] = defaultdict(list)
    products: dict[int, BenefitProduct] = {}
    for package, item in items:
        product = item.product
        products[product.pk] = product
        by_product[product.pk].append((package, item))
    grants = []
    for product_id, entries in by_product.items():
        product = products[product_id]
        known = [item.quantity for _p, item in entries if item.quantity is not None]
        quantity: Decimal | None
        if not known:
            quantity = None
        elif product.stacking == BenefitProduct.Stacking.MAXIMUM:
            quantity = max(known)
        else:
            quantity = sum(known, Decimal(0))
        details = tuple(
            dict.fromkeys(
                item.detail_ja if _japanese() and item.detail_ja else item.detail
                for _p, item in entries
                if item.detail
            )
        )
        sources = tuple(dict.fromkeys(package.display_name for package, _i in entries))
        grants.append(Grant(product=product, quantity=quantity, details=details, sources=sources))
    grants.sort(key=lambda g: (g.product.position, g.product.code))
    return grants


def _japanese() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "en").split("-")[0] == "ja"


def packages_for_option(
    *,
    option: str | None,
    holdings: Holdings,
    catalog: list[BenefitPackage],
    legacy: str | None,
    year_starts_on: date,
) -> list[BenefitPackage]:
    """The packages an option grants: each held designation's and specialization's version in
    force when it was granted, or the legacy / Action Pack version of the year's start."""
    if option == RenewalOption.SOLUTIONS_PARTNER:
        chosen = []
        for holding in holdings.held:
            assert holding.term is not None
            package = package_in_force(
                catalog,
                on=holding.term.starts_on,
                designation_id=holding.designation.pk,
                grantor=Grantor.DESIGNATION,
            )
            if package is not None:
                chosen.append(package)
        for award in holdings.specializations:
            package = package_in_force(
                catalog,
                on=award.awarded_on,
                specialization_id=award.specialization_id,
                grantor=Grantor.SPECIALIZATION,
            )
            if package is not None:
                chosen.append(package)
        return chosen
    if option == RenewalOption.LEGACY and legacy is not None:
        package = package_in_force(catalog, on=year_starts_on, grantor=legacy)
        return [package] if package else []
    if option == RenewalOption.ACTION_PACK:
        package = package_in_force(catalog, on=year_starts_on, grantor=Grantor.ACTION_PACK)
        return [package] if package else []
    return []


def entitlements_on(
    *, organization: Organization, on: date, holdings: Holdings | None = None
) -> Entitlements:
    """What the organization is granted for the benefit year `on` falls in.

    The year's option is the renewal choice in force; without one, the transition rule keeps
    an organization with legacy competencies on its legacy benefits until its first
    anniversary after GA (designations held meanwhile bring the badge, not the benefits);
    otherwise Solutions Partner benefits of every designation held — a designation enrolled
    mid-year brings its package at once, to the shared anniversary.
    """
    holdings = holdings or holdings_on(organization=organization, on=on)
    catalog = package_catalog()
    legacy = legacy_grantor(legacy_competencies_held(organization=organization))
    choice = renewal_choice_in_force(organization=organization, on=on)
    transition = False
    year_starts_on = on
    year_ends_on = holdings.anniversary
    option: str | None
    if choice is not None:
        option = choice.option
        year_starts_on = choice.anniversary + timedelta(days=1)
        year_ends_on = add_years(choice.anniversary)
    else:
        terms = [h.term for h in holdings.designations if h.term is not None]
        first = transition_anniversary(organization=organization, terms=terms, ga=holdings.ga)
        grace = timedelta(days=holdings.renewal_window_days)
        if legacy is not None and first is not None and on <= first + grace:
            option, transition, year_starts_on, year_ends_on = (
                RenewalOption.LEGACY,
                True,
                holdings.ga,
                first,
            )
        elif holdings.held:
            option = RenewalOption.SOLUTIONS_PARTNER
            year_starts_on = min(h.term.starts_on for h in holdings.held if h.term)
        else:
            option = None
    packages = packages_for_option(
        option=option,
        holdings=holdings,
        catalog=catalog,
        legacy=legacy,
        year_starts_on=year_starts_on,
    )
    items = [(package, item) for package in packages for item in package.items.all()]
    return Entitlements(
        holdings=holdings,
        option=option,
        transition=transition,
        packages=tuple(packages),
        grants=tuple(stack_grants(items)),
        year_ends_on=year_ends_on,
    )


def designation_additions(
    *, entitlements: Entitlements, catalog: list[BenefitPackage], designation: Designation
) -> list[Grant]:
    """What enrolling a designation today would add to the current grants, after stacking
    (an increase per product; a product newly included without a quantity has None)."""
    package = package_in_force(
        catalog,
        on=entitlements.holdings.on,
        designation_id=designation.pk,
        grantor=Grantor.DESIGNATION,
    )
    if package is None:
        return []
    if entitlements.option not in (None, RenewalOption.SOLUTIONS_PARTNER):
        current: dict[int, Grant] = {}
        base_items: list[tuple[BenefitPackage, PackageItem]] = []
    else:
        current = {g.product.pk: g for g in entitlements.grants}
        base_items = [(p, item) for p in entitlements.packages for item in p.items.all()]
    combined = {
        g.product.pk: g
        for g in stack_grants(base_items + [(package, item) for item in package.items.all()])
    }
    additions = []
    for product_id, grant in combined.items():
        before = current.get(product_id)
        if before is None:
            additions.append(grant)
        elif grant.quantity is not None and (before.quantity or 0) < grant.quantity:
            increase = grant.quantity - (before.quantity or 0)
            additions.append(
                Grant(
                    product=grant.product,
                    quantity=increase,
                    details=grant.details,
                    sources=(package.display_name,),
                )
            )
    return additions


@dataclass(frozen=True)
class PanelSummary:
    held: tuple[DesignationTerm, ...]
    anniversary: date | None


def benefits_panel_summary(*, organization: Organization, on: date) -> PanelSummary:
    """The designations held today and the anniversary, in one query (organization home)."""
    grace = Subquery(
        QualificationWindowRule.objects.filter(effective_from__lte=OuterRef("ends_on"))
        .order_by("-effective_from")
        .values("renewal_window_days")[:1]
    )
    terms = (
        DesignationTerm.objects.for_org(organization)
        .filter(starts_on__lte=on, ends_on__gte=on - timedelta(days=366))
        .annotate(grace=grace)
        .select_related("designation")
        .order_by("designation__position", "-starts_on")
    )
    held: dict[int, DesignationTerm] = {}
    for term in terms:
        days = getattr(term, "grace", None) or 0
        if on <= term.ends_on + timedelta(days=days) and term.designation_id not in held:
            held[term.designation_id] = term
    anniversary = max((t.ends_on for t in held.values()), default=organization.renewal_date)
    return PanelSummary(held=tuple(held.values()), anniversary=anniversary)


# --- specializations -------------------------------------------------------------------------


def specialization_areas() -> list[SpecializationArea]:
    return list(SpecializationArea.objects.prefetch_related("designations"))


def specialization_available(*, specialization: Specialization, on: date) -> bool:
    """Whether the specialization can be awarded on a date (no availability row: always)."""
    row = SpecializationAvailability.objects.filter(specialization=specialization).first()
    if row is None:
        return True
    return row.available_from <= on and (row.available_until is None or on <= row.available_until)


def specializations_within_reach(*, holdings: Holdings) -> list[Specialization]:
    """Specializations of the designations held that the organization has not been awarded."""
    held_ids = {h.designation.pk for h in holdings.held}
    awarded = {award.specialization_id for award in holdings.specializations}
    return [
        s
        for s in specialization_catalog_list()
        if s.designation_id in held_ids and s.pk not in awarded
    ]


def specialization_award_refusal(
    *, organization: Organization, specialization: Specialization, awarded_on: date
) -> str:
    """Why a specialization cannot be awarded on a date ('' when it can): not available then,
    its parent designation not held, held already, or its area's cap reached."""
    from django.utils.translation import gettext as _

    if not specialization_available(specialization=specialization, on=awarded_on):
        return _("%(specialization)s cannot be awarded on %(date)s.") % {
            "specialization": specialization.display_name,
            "date": awarded_on.isoformat(),
        }
    holdings = holdings_on(organization=organization, on=awarded_on)
    parent = holdings.holding(specialization.designation.code)
    if not parent.held:
        return _(
            "%(specialization)s needs the designation %(designation)s first: it is not held on "
            "%(date)s."
        ) % {
            "specialization": specialization.display_name,
            "designation": specialization.designation.display_name,
            "date": awarded_on.isoformat(),
        }
    if any(a.specialization_id == specialization.pk for a in holdings.specializations):
        return _("%(specialization)s is already held.") % {
            "specialization": specialization.display_name
        }
    for area in specialization_areas():
        area_ids = {d.pk for d in area.designations.all()}
        if specialization.designation_id not in area_ids:
            continue
        count = sum(
            1 for a in holdings.specializations if a.specialization.designation_id in area_ids
        )
        if count >= area.cap:
            return _("The %(area)s area allows at most %(cap)s specializations.") % {
                "area": area.display_name,
                "cap": area.cap,
            }
    return ""


# --- renewal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalWindow:
    anniversary: date
    opens_on: date
    closes_on: date

    def is_open(self, on: date) -> bool:
        return self.opens_on <= on <= self.closes_on


def renewal_window_on(*, organization: Organization, on: date) -> RenewalWindow | None:
    """The renewal window `on` falls in: the 30 days (program data) after an anniversary."""
    terms = designation_terms(organization=organization)
    candidates = {t.ends_on for t in terms}
    candidates.update(
        RenewalChoice.objects.for_org(organization).values_list("anniversary", flat=True)
    )
    if organization.renewal_date:
        candidates.add(organization.renewal_date)
    rules = window_rules()
    for anniversary in sorted(candidates, reverse=True):
        if anniversary >= on:
            continue
        days = window_rule_in_force(on=anniversary, rules=rules).renewal_window_days
        window = RenewalWindow(
            anniversary=anniversary,
            opens_on=anniversary + timedelta(days=1),
            closes_on=anniversary + timedelta(days=days),
        )
        if window.is_open(on):
            return window
    return None


def next_renewal_window(*, organization: Organization, on: date) -> RenewalWindow | None:
    """The window after the coming anniversary (for the timeline), or None without one."""
    holdings_anniversary = organization.renewal_date
    terms = designation_terms(organization=organization)
    future = sorted({t.ends_on for t in terms if t.ends_on >= on})
    anniversary = future[0] if future else holdings_anniversary
    if anniversary is None or anniversary < on:
        return None
    days = window_rule_in_force(on=anniversary).renewal_window_days
    return RenewalWindow(
        anniversary=anniversary,
        opens_on=anniversary + timedelta(days=1),
        closes_on=anniversary + timedelta(days=days),
    )


@dataclass(frozen=True)
class RenewalOffer:
    option: str
    available: bool
    reason: str  # why not available ('' when it is)
    fee: AnnualFee | None
    packages: tuple[BenefitPackage, ...]
    grants: tuple[Grant, ...]
    renews: tuple[Designation, ...] = field(default=())

    @property
    def label(self) -> str:
        return str(RenewalOption(self.option).label)


def renewable_designations(
    *, organization: Organization, window: RenewalWindow, on: date
) -> list[Designation]:
    """Designations whose term ends on the anniversary and that qualified in their renewal
    window (as far as it has run on `on`) — whatever has been chosen since."""
    ending = {
        t.designation_id: t.designation
        for t in designation_terms(organization=organization)
        if t.ends_on == window.anniversary
    }
    if not ending:
        return []
    rule = window_rule_in_force(on=window.anniversary)
    start, end = qualification_window(
        on=min(on, window.closes_on),
        rule=rule,
        ga=general_availability(),
        anniversary=window.anniversary,
    )
    days = (
        snapshot_qualified_days(organization=organization, start=start, end=end)
        if start <= end
        else {}
    )
    renewable = [d for pk, d in ending.items() if days.get(pk)]
    return sorted(renewable, key=lambda d: (d.position, d.code))


def renewal_offers(
    *, organization: Organization, window: RenewalWindow, on: date
) -> list[RenewalOffer]:
    """The three options of a renewal window: whether each is open to the organization, its
    annual fee, and exactly which benefits it brings for the next year."""
    from django.utils.translation import gettext as _

    year_starts_on = window.anniversary + timedelta(days=1)
    catalog = package_catalog()
    legacy_held = legacy_competencies_held(organization=organization)
    legacy = legacy_grantor(legacy_held)
    renews = renewable_designations(organization=organization, window=window, on=on)
    holdings = holdings_on(organization=organization, on=min(on, window.closes_on))
    renew_ids = {d.pk for d in renews}
    offers = []

    sp_fee = annual_fee_in_force(offer=AnnualFee.Offer.SOLUTIONS_PARTNER, on=year_starts_on)
    future = Holdings(
        organization=organization,
        on=year_starts_on,
        designations=tuple(
            DesignationHolding(
                designation=h.designation,
                status=DesignationStatus.RENEWED,
                term=DesignationTerm(
                    organization=organization,
                    designation=h.designation,
                    kind=DesignationTerm.Kind.RENEWAL,
                    starts_on=year_starts_on,
                    ends_on=add_years(window.anniversary),
                ),
                window=h.window,
                qualified_in_window=True,
            )
            for h in holdings.designations
            if h.designation.pk in renew_ids
        ),
        specializations=tuple(
            a for a in holdings.specializations if a.specialization.designation_id in renew_ids
        ),
        anniversary=add_years(window.anniversary),
        ga=holdings.ga,
        renewal_window_days=holdings.renewal_window_days,
    )

    def offer(option: str, available: bool, reason: str, fee: AnnualFee | None) -> RenewalOffer:
        packages = packages_for_option(
            option=option,
            holdings=future,
            catalog=catalog,
            legacy=legacy,
            year_starts_on=year_starts_on,
        )
        items = [(p, item) for p in packages for item in p.items.all()]
        return RenewalOffer(
            option=option,
            available=available,
            reason=reason,
            fee=fee,
            packages=tuple(packages),
            grants=tuple(stack_grants(items)),
            renews=tuple(renews) if option != RenewalOption.ACTION_PACK else (),
        )

    offers.append(
        offer(
            RenewalOption.SOLUTIONS_PARTNER,
            bool(renews) and (sp_fee is None or sp_fee.available),
            "" if renews else _("No designation qualified in its renewal window."),
            sp_fee,
        )
    )
    legacy_fee = (
        annual_fee_in_force(offer=legacy, on=year_starts_on) if legacy is not None else None
    )
    if legacy is None:
        legacy_reason = _(
            "Only organizations that held legacy competencies by 2022-09-30 can keep legacy "
            "benefits."
        )
    elif legacy_fee is not None and not legacy_fee.available:
        legacy_reason = _("Legacy benefits are no longer offered.")
    else:
        legacy_reason = ""
    offers.append(offer(RenewalOption.LEGACY, not legacy_reason, legacy_reason, legacy_fee))
    pack_fee = annual_fee_in_force(offer=AnnualFee.Offer.ACTION_PACK, on=year_starts_on)
    pack_reason = (
        _("The Microsoft Action Pack is no longer offered.")
        if pack_fee is not None and not pack_fee.available
        else ""
    )
    offers.append(offer(RenewalOption.ACTION_PACK, not pack_reason, pack_reason, pack_fee))
    return offers


def renewal_choice_get(*, organization: Organization, anniversary: date) -> RenewalChoice | None:
    return (
        RenewalChoice.objects.for_org(organization)
        .select_related("chosen_by")
        .filter(anniversary=anniversary)
        .first()
    )


# --- benefit use -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductUse:
    grant: Grant
    granted: int  # seats, or 1 for a credit (one user per credit)
    assignments: tuple[BenefitAssignment, ...]
    activation: BenefitActivation | None

    @property
    def assigned(self) -> int:
        return len(self.assignments)

    @property
    def free(self) -> int:
        return max(0, self.granted - self.assigned)

    @property
    def product(self) -> BenefitProduct:
        return self.grant.product


def assignable_count(grant: Grant) -> int:
    """How many assignments a grant allows: its seats, or one user per credit."""
    if grant.product.use == BenefitProduct.Use.CREDIT:
        return 1 if (grant.quantity is None or grant.quantity > 0) else 0
    if grant.quantity is None:
        return 0
    return int(grant.quantity)


def benefit_use(*, entitlements: Entitlements) -> list[ProductUse]:
    """Per usable product granted: granted, the open assignments, the tenant activation."""
    organization = entitlements.holdings.organization
    usable = [
        g
        for g in entitlements.grants
        if g.product.use != BenefitProduct.Use.NONE or g.product.activated_on_tenant
    ]
    ids = [g.product.pk for g in usable]
    assignments: dict[int, list[BenefitAssignment]] = defaultdict(list)
    for assignment in (
        BenefitAssignment.objects.for_org(organization)
        .filter(product_id__in=ids, unassigned_on__isnull=True)
        .select_related("person")
        .order_by("assigned_on", "pk")
    ):
        assignments[assignment.product_id].append(assignment)
    activations = {
        a.product_id: a
        for a in BenefitActivation.objects.for_org(organization).filter(product_id__in=ids)
    }
    return [
        ProductUse(
            grant=g,
            granted=assignable_count(g),
            assignments=tuple(assignments.get(g.product.pk, ())),
            activation=activations.get(g.product.pk),
        )
        for g in usable
    ]


def active_people(*, organization: Organization) -> list[Person]:
    return list(Person.objects.for_org(organization).filter(active=True).order_by("name"))


# --- notifications ---------------------------------------------------------------------------


def notification_status_changes(
    *, organization: Organization, start: date, end: date
) -> list[DesignationStatusChange]:
    return list(
        DesignationStatusChange.objects.for_org(organization)
        .select_related("designation")
        .filter(changed_on__gte=start, changed_on__lte=end)
        .order_by("changed_on", "pk")
    )


def certifications_expiring(
    *, organization: Organization, start: date, end: date
) -> list[HeldCertification]:
    """Certifications of active people that expire between the two dates."""
    return list(
        HeldCertification.objects.for_org(organization)
        .select_related("person", "certification")
        .filter(expires_on__gte=start, expires_on__lte=end, person__active=True)
        .order_by("expires_on", "pk")
    )


def notification_recipients(*, organization: Organization) -> list[User]:
    """The organization's admins."""
    return [
        membership.user
        for membership in Membership.objects.for_org(organization)
        .select_related("user")
        .filter(role=Membership.Role.ADMIN, user__is_active=True)
        .order_by("pk")
    ]


def email_wanted(*, organization: Organization, user: User, kind: str) -> bool:
    preference = (
        NotificationPreference.objects.for_org(organization).filter(user=user, kind=kind).first()
    )
    return preference is None or preference.email


def notification_list(
    *, organization: Organization, user: User, limit: int = 50
) -> list[Notification]:
    return list(
        Notification.objects.for_org(organization)
        .filter(user=user)
        .order_by("-created_at", "-pk")[:limit]
    )


def email_kinds_wanted(*, organization: Organization, user: User) -> set[str]:
    """The kinds this user receives by e-mail (every kind unless turned off)."""
    off = set(
        NotificationPreference.objects.for_org(organization)
        .filter(user=user, email=False)
        .values_list("kind", flat=True)
    )
    return {kind for kind in NotificationKind.values if kind not in off}


# --- the API's lists -------------------------------------------------------------------------


def benefit_assignment_list(*, organization: Organization) -> QuerySet[BenefitAssignment]:
    """Every assignment of the organization (open and ended), with product and person."""
    return BenefitAssignment.objects.for_org(organization).select_related("product", "person")


def status_change_list(*, organization: Organization) -> QuerySet[DesignationStatusChange]:
    """The organization's recorded status changes, with their designation."""
    return DesignationStatusChange.objects.for_org(organization).select_related("designation")
