"""Writes of the benefits app: enrolment, status history, specialization awards, benefit use
and the renewal choice. Errors a user can cause raise `ApplicationError`; acting without the
admin role (or, for awards, without being staff) raises `PermissionDenied`.

Every service that changes what an organization holds locks the organization's row first, so
two admins enrolling, renewing or awarding at once are serialized.

Decisions where the published rules are silent (program.md, published-rules.md §5–§9):
- a renewal keeps the anniversary's calendar day (next anniversary = this one + 1 year; the
  source's "365 days after payment" would drift with the payment date inside the window);
- an enrolment in the transition year records no fee: the current membership runs to its
  anniversary, where the renewal choice records the annual fee;
- Solutions Partner and legacy benefits both renew the designations qualified in the window
  (both pay an annual fee); the Action Pack renews none;
- notices go to the organization's admins; e-mail is in Japanese for partners in Japan (JP).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from benefits.models import (
    BenefitActivation,
    BenefitAllowance,
    BenefitAssignment,
    BenefitProduct,
    DesignationStatus,
    DesignationStatusChange,
    DesignationTerm,
    Notification,
    NotificationKind,
    NotificationPreference,
    RenewalChoice,
    RenewalOption,
    SpecializationAward,
)
from benefits.presenters import notification_text
from benefits.selectors import (
    add_years,
    annual_fee_in_force,
    assignable_count,
    certifications_expiring,
    email_wanted,
    entitlements_on,
    holdings_on,
    last_recorded_statuses,
    legacy_competencies_held,
    notification_recipients,
    notification_status_changes,
    renewal_offers,
    renewal_window_on,
    specialization_award_refusal,
    window_rule_in_force,
)
from benefits.webhook_events import designation_status_changed_notify
from portal.audit import audit_as
from portal.exceptions import ApplicationError
from portal.models import Organization, OrganizationAPIKey, Person, User
from portal.selectors import membership_get
from scoring.selectors import specialization_catalog_list
from scoring.services import track_freeze_for_term, track_freeze_release


def _require_admin(*, organization: Organization, actor: User) -> None:
    membership = membership_get(organization=organization, user=actor)
    if membership is None or not membership.is_admin:
        raise PermissionDenied(_("Only an admin of the partner organization can do this."))


def _authorize_use(*, organization: Organization, actor: Any) -> str | None:
    """Benefit use is an admin's, or a read-write API key's of the organization (the
    integrator's HR tooling); the audit reason names the key, which is not a user."""
    if isinstance(actor, OrganizationAPIKey):
        if actor.organization_id != organization.pk or not actor.can_write:
            raise PermissionDenied(_("This API key cannot assign this organization's benefits."))
        return f"API key {actor.name} ({actor.prefix})"
    _require_admin(organization=organization, actor=actor)
    return None


def _require_staff(actor: Any) -> None:
    if not isinstance(actor, User) or not actor.is_staff:
        raise PermissionDenied(_("Only program staff can do this."))


def _lock(organization: Organization) -> Organization:
    # Deliberately by primary key: the caller already resolved the tenant.
    return Organization.objects.unscoped().select_for_update().get(pk=organization.pk)


def _record_status(
    *,
    organization: Organization,
    designation_id: int,
    status: str,
    on: date,
    actor: Any,
    reason: str,
) -> DesignationStatusChange:
    change, _created = DesignationStatusChange.objects.get_or_create(
        organization=organization,
        designation_id=designation_id,
        status=status,
        changed_on=on,
        defaults={"actor": actor if isinstance(actor, User) else None, "reason": reason[:300]},
    )
    if _created:
        # Sent after commit, with the change: a rolled-back enrolment announces nothing.
        designation_status_changed_notify(change=change)
    return change


# --- enrolment and status ------------------------------------------------------------------


@transaction.atomic
def designation_enrol(
    *, organization: Organization, designation_code: str, actor: User, on: date | None = None
) -> DesignationTerm:
    """An admin enrols a designation qualified in its window: the first pays the annual fee and
    sets the anniversary (in the transition year, the existing one); later ones are free and
    share it, their benefits from today."""
    _require_admin(organization=organization, actor=actor)
    on = on or timezone.localdate()
    organization = _lock(organization)
    holdings = holdings_on(organization=organization, on=on)
    holding = next(
        (h for h in holdings.designations if h.designation.code == designation_code), None
    )
    if holding is None:
        raise ApplicationError(_("Unknown designation: %(code)s.") % {"code": designation_code})
    name = holding.designation.display_name
    if holding.held:
        raise ApplicationError(_("%(designation)s is already held.") % {"designation": name})
    if holding.status != DesignationStatus.QUALIFIED:
        start, end = holding.window
        raise ApplicationError(
            _(
                "%(designation)s did not meet the requirements on any day of its "
                "qualification window (%(start)s to %(end)s)."
            )
            % {"designation": name, "start": start.isoformat(), "end": end.isoformat()}
        )
    held = holdings.held
    fee_amount: Decimal | None
    if held:
        assert holdings.anniversary is not None
        if holdings.anniversary < on:
            raise ApplicationError(
                _("Your renewal window is open: choose your renewal option first.")
            )
        anniversary = holdings.anniversary
        fee_amount, currency = Decimal(0), ""
        reason = f"further designation: no extra charge, shares the anniversary {anniversary}"
    else:
        legacy = legacy_competencies_held(organization=organization)
        renewal_date = organization.renewal_date
        in_transition = (
            bool(legacy)
            and renewal_date is not None
            and holdings.ga <= on < renewal_date <= add_years(holdings.ga)
        )
        if in_transition:
            assert renewal_date is not None
            anniversary = renewal_date
            fee_amount, currency = Decimal(0), ""
            reason = (
                "transition: held at once; current benefits kept until the anniversary "
                f"{anniversary}"
            )
        else:
            anniversary = add_years(on)
            fee = annual_fee_in_force(offer="solutions_partner", on=on)
            fee_amount = fee.amount if fee else None
            currency = fee.currency if fee else ""
            reason = f"first designation: annual fee recorded, anniversary {anniversary}"
            organization.renewal_date = anniversary
            audit_as(organization, actor=actor, reason=f"anniversary set by enrolment ({name})")
            organization.save(update_fields=["renewal_date"])
    term = DesignationTerm(
        organization=organization,
        designation=holding.designation,
        kind=DesignationTerm.Kind.ENROLMENT,
        starts_on=on,
        ends_on=anniversary,
        fee_amount=fee_amount,
        fee_currency=currency,
        created_by=actor,
    )
    audit_as(term, actor=actor, reason=reason)
    term.save()
    track_freeze_for_term(
        organization=organization,
        designation_code=designation_code,
        starts_on=term.starts_on,
        ends_on=term.ends_on,
        classify_on=on,
    )
    _record_status(
        organization=organization,
        designation_id=holding.designation.pk,
        status=DesignationStatus.ENROLLED,
        on=on,
        actor=actor,
        reason=reason,
    )
    return term


def _status_reason(holding: Any, on: date) -> str:
    start, end = holding.window
    if holding.status == DesignationStatus.QUALIFIED:
        return f"requirements met on {holding.qualified_days[-1]} (window {start} to {end})"
    if holding.status == DesignationStatus.RENEWAL_DUE:
        return f"anniversary {holding.term.ends_on} passed: renewal window open"
    if holding.status == DesignationStatus.LAPSED:
        return "not renewed by the end of the renewal window"
    if holding.status == DesignationStatus.IN_PROGRESS:
        return f"requirements not met on any day of the window {start} to {end}"
    return f"{holding.status} on {on}"


@transaction.atomic
def designation_statuses_record(
    *, organization: Organization, on: date, actor: Any = None
) -> list[DesignationStatusChange]:
    """Record each designation whose status on `on` differs from the last one recorded (the
    nightly job runs it; running it twice records nothing new)."""
    holdings = holdings_on(organization=organization, on=on)
    last = last_recorded_statuses(organization=organization)
    changes = []
    for holding in holdings.designations:
        previous = last.get(holding.designation.pk, DesignationStatus.IN_PROGRESS)
        if previous == holding.status:
            continue
        changes.append(
            _record_status(
                organization=organization,
                designation_id=holding.designation.pk,
                status=holding.status,
                on=on,
                actor=actor,
                reason=_status_reason(holding, on),
            )
        )
    return changes


# --- specializations ------------------------------------------------------------------------


@transaction.atomic
def specialization_award(
    *,
    organization: Organization,
    specialization_code: str,
    awarded_on: date,
    evidence_note: str,
    actor: User,
    ends_on: date | None = None,
) -> SpecializationAward:
    """Staff award a specialization: available on that date, its parent designation held, not
    held already, and within its area's cap (Security 3)."""
    _require_staff(actor)
    organization = _lock(organization)
    specialization = next(
        (s for s in specialization_catalog_list() if s.code == specialization_code), None
    )
    if specialization is None:
        raise ApplicationError(
            _("Unknown specialization: %(code)s.") % {"code": specialization_code}
        )
    if not evidence_note.strip():
        raise ApplicationError(_("Record the evidence the award rests on."))
    if ends_on is not None and ends_on <= awarded_on:
        raise ApplicationError(_("A specialization must end after it is awarded."))
    refusal = specialization_award_refusal(
        organization=organization, specialization=specialization, awarded_on=awarded_on
    )
    if refusal:
        raise ApplicationError(refusal)
    award = SpecializationAward(
        organization=organization,
        specialization=specialization,
        awarded_on=awarded_on,
        ends_on=ends_on,
        evidence_note=evidence_note.strip(),
        awarded_by=actor,
    )
    audit_as(award, actor=actor, reason="specialization awarded")
    award.save()
    return award


# --- benefit use ----------------------------------------------------------------------------


def _product(code: str) -> BenefitProduct:
    product = BenefitProduct.objects.filter(code=code).first()
    if product is None:
        raise ApplicationError(_("Unknown benefit: %(code)s.") % {"code": code})
    return product


@transaction.atomic
def benefit_assign(
    *,
    organization: Organization,
    product_code: str,
    person_id: int,
    actor: User | OrganizationAPIKey,
    on: date | None = None,
) -> BenefitAssignment:
    """An admin (or a read-write API key) gives a seat (or a credit, to one user) to an active
    person of the organization, never beyond the quantity granted, whatever the concurrent
    requests."""
    key_reason = _authorize_use(organization=organization, actor=actor)
    on = on or timezone.localdate()
    product = _product(product_code)
    if product.use == BenefitProduct.Use.NONE:
        raise ApplicationError(
            _("%(benefit)s is not assigned to people.") % {"benefit": product.display_name}
        )
    allowance, _created = BenefitAllowance.objects.get_or_create(
        organization=organization, product=product
    )
    # The per-organization-product row serializes assignments: the count below is taken
    # after any concurrent assignment of the same product has committed.
    BenefitAllowance.objects.for_org(organization).select_for_update().get(pk=allowance.pk)
    grant = entitlements_on(organization=organization, on=on).grant(product.code)
    granted = assignable_count(grant) if grant else 0
    if granted == 0:
        raise ApplicationError(
            _("%(benefit)s is not granted to your organization.")
            % {"benefit": product.display_name}
        )
    person = Person.objects.for_org(organization).filter(pk=person_id, active=True).first()
    if person is None:
        raise ApplicationError(_("Choose an active person of your organization."))
    if product.use == BenefitProduct.Use.CREDIT and not person.email:
        raise ApplicationError(_("An Azure credit is redeemed by e-mail: the person needs one."))
    assigned = BenefitAssignment.objects.for_org(organization).filter(
        product=product, unassigned_on__isnull=True
    )
    if assigned.filter(person=person).exists():
        raise ApplicationError(
            _("%(person)s already has %(benefit)s.")
            % {"person": person.name, "benefit": product.display_name}
        )
    if assigned.count() >= granted:
        raise ApplicationError(
            _("All %(count)s of %(benefit)s are assigned.")
            % {"count": granted, "benefit": product.display_name}
        )
    assignment = BenefitAssignment(
        organization=organization,
        product=product,
        person=person,
        assigned_on=on,
        assigned_by=actor if isinstance(actor, User) else None,
    )
    reason = f"benefit assigned by {key_reason}" if key_reason else "benefit assigned"
    audit_as(assignment, actor=actor, reason=reason)
    assignment.save()
    return assignment


@transaction.atomic
def benefit_unassign(
    *,
    organization: Organization,
    assignment_id: int,
    actor: User | OrganizationAPIKey,
    on: date | None = None,
) -> BenefitAssignment:
    """An admin (or a read-write API key) frees a seat, only once the product's reassignment
    delay has passed (Visual Studio: 90 days)."""
    key_reason = _authorize_use(organization=organization, actor=actor)
    on = on or timezone.localdate()
    assignment = (
        BenefitAssignment.objects.for_org(organization)
        .select_for_update()
        .select_related("product", "person")
        .filter(pk=assignment_id, unassigned_on__isnull=True)
        .first()
    )
    if assignment is None:
        raise ApplicationError(_("No such assignment."))
    delay = assignment.product.reassign_after_days
    if delay is not None and on < assignment.assigned_on + timedelta(days=delay):
        raise ApplicationError(
            _(
                "%(benefit)s can be reassigned only %(days)s days after it was assigned: from "
                "%(date)s."
            )
            % {
                "benefit": assignment.product.display_name,
                "days": delay,
                "date": (assignment.assigned_on + timedelta(days=delay)).isoformat(),
            }
        )
    assignment.unassigned_on = on
    reason = f"benefit unassigned by {key_reason}" if key_reason else "benefit unassigned"
    audit_as(assignment, actor=actor, reason=reason)
    assignment.save(update_fields=["unassigned_on"])
    return assignment


@transaction.atomic
def benefit_activate(
    *,
    organization: Organization,
    product_code: str,
    tenant: str,
    actor: User,
    on: date | None = None,
) -> BenefitActivation:
    """An admin records the tenant a granted cloud-service benefit is activated on (once: an
    activation token cannot be split)."""
    _require_admin(organization=organization, actor=actor)
    on = on or timezone.localdate()
    product = _product(product_code)
    tenant = (tenant or "").strip()
    if not product.activated_on_tenant:
        raise ApplicationError(
            _("%(benefit)s is not activated on a tenant.") % {"benefit": product.display_name}
        )
    if not tenant:
        raise ApplicationError(_("Enter the tenant ID or primary domain."))
    if entitlements_on(organization=organization, on=on).grant(product.code) is None:
        raise ApplicationError(
            _("%(benefit)s is not granted to your organization.")
            % {"benefit": product.display_name}
        )
    existing = BenefitActivation.objects.for_org(organization).filter(product=product).first()
    if existing is not None:
        raise ApplicationError(
            _("%(benefit)s is already activated on %(tenant)s.")
            % {"benefit": product.display_name, "tenant": existing.tenant}
        )
    activation = BenefitActivation(
        organization=organization,
        product=product,
        tenant=tenant[:200],
        activated_on=on,
        activated_by=actor,
    )
    audit_as(activation, actor=actor, reason="benefit activated")
    activation.save()
    return activation


# --- renewal --------------------------------------------------------------------------------


@transaction.atomic
def renewal_choose(
    *, organization: Organization, option: str, actor: User, on: date | None = None
) -> RenewalChoice:
    """In the renewal window an admin chooses one option at its annual fee; designations
    qualified in their window are renewed with Solutions Partner or legacy benefits (the Action
    Pack renews none). The choice can change until the window closes, then it is locked."""
    _require_admin(organization=organization, actor=actor)
    on = on or timezone.localdate()
    organization = _lock(organization)
    if option not in RenewalOption.values:
        raise ApplicationError(_("Unknown renewal option: %(option)s.") % {"option": option})
    window = renewal_window_on(organization=organization, on=on)
    if window is None:
        last = (
            RenewalChoice.objects.for_org(organization)
            .filter(anniversary__lt=on)
            .order_by("-anniversary")
            .first()
        )
        if last is not None:
            closes = last.anniversary + timedelta(
                days=window_rule_in_force(on=last.anniversary).renewal_window_days
            )
            if on > closes:
                raise ApplicationError(
                    _("The renewal window closed on %(date)s: the choice is locked.")
                    % {"date": closes.isoformat()}
                )
        raise ApplicationError(_("The renewal window is not open."))
    offer = next(
        o
        for o in renewal_offers(organization=organization, window=window, on=on)
        if o.option == option
    )
    if not offer.available:
        raise ApplicationError(offer.reason)
    choice = (
        RenewalChoice.objects.for_org(organization)
        .select_for_update()
        .filter(anniversary=window.anniversary)
        .first()
    ) or RenewalChoice(organization=organization, anniversary=window.anniversary)
    choice.option = option
    choice.fee_amount = offer.fee.amount if offer.fee else None
    choice.fee_currency = offer.fee.currency if offer.fee else ""
    choice.chosen_by = actor
    choice.chosen_at = timezone.now()
    audit_as(choice, actor=actor, reason=f"renewal option chosen: {option}")
    choice.save()

    next_anniversary = add_years(window.anniversary)
    existing = {
        term.designation_id: term
        for term in DesignationTerm.objects.for_org(organization).filter(renewal_choice=choice)
    }
    renews = {d.pk: d for d in offer.renews}
    for designation_id, term in existing.items():
        if designation_id not in renews:
            audit_as(term, actor=actor, reason=f"renewal option changed to {option}")
            term.delete()
            track_freeze_release(
                organization=organization,
                designation_code=term.designation.code,
                starts_on=term.starts_on,
            )
    for designation_id, designation in renews.items():
        if designation_id in existing:
            continue
        term = DesignationTerm(
            organization=organization,
            designation=designation,
            kind=DesignationTerm.Kind.RENEWAL,
            starts_on=window.anniversary + timedelta(days=1),
            ends_on=next_anniversary,
            renewal_choice=choice,
            created_by=actor,
        )
        audit_as(term, actor=actor, reason=f"renewed with {option}")
        term.save()
        track_freeze_for_term(
            organization=organization,
            designation_code=designation.code,
            starts_on=term.starts_on,
            ends_on=term.ends_on,
            classify_on=on,
        )
        _record_status(
            organization=organization,
            designation_id=designation_id,
            status=DesignationStatus.RENEWED,
            on=on,
            actor=actor,
            reason=f"qualified in the renewal window; option {option}",
        )
    if organization.renewal_date != next_anniversary:
        organization.renewal_date = next_anniversary
        audit_as(organization, actor=actor, reason="anniversary moved by the renewal choice")
        organization.save(update_fields=["renewal_date"])
    return choice


# --- notifications --------------------------------------------------------------------------

NOTIFIED_STATUSES = {
    DesignationStatus.QUALIFIED: NotificationKind.QUALIFIED,
    DesignationStatus.ENROLLED: NotificationKind.ENROLLED,
    DesignationStatus.RENEWAL_DUE: NotificationKind.RENEWAL_DUE,
    DesignationStatus.LAPSED: NotificationKind.LAPSED,
}
STATUS_LOOKBACK_DAYS = 7  # status changes of the last week are still news (a missed night)
CERTIFICATION_NOTICE_DAYS = 90
CHOICE_DUE_DAYS = 14


def _events(*, organization: Organization, on: date) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, event key, params) of everything worth telling the organization's admins."""
    events: list[tuple[str, str, dict[str, Any]]] = []
    for change in notification_status_changes(
        organization=organization, start=on - timedelta(days=STATUS_LOOKBACK_DAYS), end=on
    ):
        kind = NOTIFIED_STATUSES.get(DesignationStatus(change.status))
        if kind is not None:
            params = {
                "designation": change.designation.code,
                "designation_name": change.designation.name,
                "designation_name_ja": change.designation.name_ja,
                "on": change.changed_on.isoformat(),
            }
            events.append((kind, f"status:{change.pk}", params))
    for held in certifications_expiring(
        organization=organization, start=on, end=on + timedelta(days=CERTIFICATION_NOTICE_DAYS)
    ):
        assert held.expires_on is not None
        params = {
            "person": held.person.name,
            "certification": held.certification.code,
            "expires_on": held.expires_on.isoformat(),
        }
        events.append(
            (
                NotificationKind.CERTIFICATION_EXPIRING,
                f"certification-expiring:{held.pk}:{held.expires_on.isoformat()}",
                params,
            )
        )
    window = renewal_window_on(organization=organization, on=on)
    if window is not None:
        params = {
            "anniversary": window.anniversary.isoformat(),
            "closes_on": window.closes_on.isoformat(),
        }
        events.append(
            (
                NotificationKind.RENEWAL_WINDOW_OPEN,
                f"renewal-window:{window.anniversary.isoformat()}",
                params,
            )
        )
        chosen = RenewalChoice.objects.for_org(organization).filter(anniversary=window.anniversary)
        if (window.closes_on - on).days <= CHOICE_DUE_DAYS and not chosen.exists():
            events.append(
                (
                    NotificationKind.RENEWAL_CHOICE_DUE,
                    f"renewal-choice-due:{window.anniversary.isoformat()}",
                    params,
                )
            )
    return events


@transaction.atomic
def notifications_run(*, organization: Organization, on: date) -> list[Notification]:
    """The nightly pass for one organization: record status changes, then tell each admin every
    new event once (the event key is unique), e-mailing those who did not opt out."""
    designation_statuses_record(organization=organization, on=on)
    recipients = notification_recipients(organization=organization)
    created: list[Notification] = []
    for kind, key, params in _events(organization=organization, on=on):
        for user in recipients:
            notification, is_new = Notification.objects.get_or_create(
                organization=organization,
                user=user,
                event_key=key,
                defaults={"kind": kind, "params": params},
            )
            if is_new:
                created.append(notification)
    if created:
        ids = [n.pk for n in created]
        from benefits.tasks import notifications_email_task

        transaction.on_commit(lambda: notifications_email_task.delay(ids))
    return created


def notifications_email(*, notification_ids: list[int]) -> int:
    """E-mail the notifications not e-mailed yet whose user wants that kind by e-mail; returns
    how many were sent (a retried task sends nothing twice)."""
    sent = 0
    # By id, after commit, outside any request: a deliberate cross-tenant read of these rows.
    pending = (
        Notification.objects.unscoped()
        .select_related("organization", "user")
        .filter(pk__in=notification_ids, emailed_at__isnull=True)
    )
    for notification in pending:
        with transaction.atomic():
            locked = (
                Notification.objects.unscoped()
                .select_for_update()
                .filter(pk=notification.pk, emailed_at__isnull=True)
                .first()
            )
            if locked is None:
                continue
            if not email_wanted(
                organization=notification.organization,
                user=notification.user,
                kind=notification.kind,
            ):
                continue
            language = "ja" if notification.organization.country == "JP" else "en"
            with translation.override(language):
                context = {
                    "notification": notification,
                    "organization": notification.organization,
                    "text": notification_text(notification.kind, notification.params),
                }
                subject = render_to_string("benefits/email/notification_subject.txt", context)
                body = render_to_string("benefits/email/notification_message.txt", context)
            send_mail(
                settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
                body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.user.email],
            )
            locked.emailed_at = timezone.now()
            locked.save(update_fields=["emailed_at"])
            sent += 1
    return sent


@transaction.atomic
def notification_preferences_set(
    *, organization: Organization, user: User, email_kinds: set[str]
) -> None:
    """A user chooses which kinds of notification reach them by e-mail (the others only in the
    portal)."""
    if membership_get(organization=organization, user=user) is None:
        raise PermissionDenied(_("Only members of the partner organization can do this."))
    for kind in NotificationKind.values:
        preference, _created = NotificationPreference.objects.get_or_create(
            organization=organization, user=user, kind=kind
        )
        wanted = kind in email_kinds
        if preference.email != wanted:
            preference.email = wanted
            audit_as(preference, actor=user, reason="e-mail preference changed")
            preference.save(update_fields=["email"])


@transaction.atomic
def notifications_mark_read(*, organization: Organization, user: User) -> int:
    """The user has seen their notifications of this organization."""
    return (
        Notification.objects.for_org(organization)
        .filter(user=user, read_at__isnull=True)
        .update(read_at=timezone.now())
    )
