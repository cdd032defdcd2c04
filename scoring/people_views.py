"""The People tab: an organization's people and certifications; admins add, edit, deactivate.

Reads go through `scoring.people_selectors` (what a person counts toward comes from the rule
sets in force), writes through the audited services of `portal.people_services`, CSV uploads
through the import pipeline limited to this organization. Members read; their POSTs are 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import people_services
from portal.access import org_admin_required, org_member_required
from portal.exceptions import ApplicationError
from portal.models import HeldCertification, Membership, Person
from scoring import people_presenters
from scoring.imports.api import import_csv_for_organization
from scoring.people_forms import (
    HeldCertificationForm,
    PeopleFilterForm,
    PeopleUploadForm,
    PersonForm,
)
from scoring.people_selectors import (
    held_certification_get,
    page_contributions,
    person_get,
    person_list,
)

PAGE_SIZE = 25


def _person_or_404(membership: Membership, person_pk: int) -> Person:
    person = person_get(organization=membership.organization, pk=person_pk)
    if person is None:
        raise Http404(_("No such person in this partner organization."))
    return person


def _held_or_404(membership: Membership, person: Person, held_pk: int) -> HeldCertification:
    held = held_certification_get(organization=membership.organization, person=person, pk=held_pk)
    if held is None:
        raise Http404(_("No such certification of this person."))
    return held


def _show_error(form: Form, error: ApplicationError) -> None:
    field = error.extra.get("attr")
    form.add_error(field if field in form.fields else None, error.message)


def _context(membership: Membership, **extra: Any) -> dict[str, Any]:
    return {"organization": membership.organization, "membership": membership, **extra}


@org_member_required
def people(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """The organization's people: search, filters, pages; what each counts toward."""
    today = timezone.localdate()
    filters = PeopleFilterForm(request.GET)
    query = filters.query()
    found = person_list(organization=membership.organization, query=query, as_of=today)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = list(page.object_list)
    contributions = page_contributions(people=on_page, as_of=today)
    rows = [people_presenters.person_row(p, contributions[p.pk], today=today) for p in on_page]
    params = request.GET.copy()
    params.pop("page", None)
    context = _context(
        membership,
        filters=filters,
        page=page,
        rows=rows,
        query_string=params.urlencode(),
        filtered=bool(query.search or query.certification or query.designation or query.expiring),
    )
    return render(request, "scoring/people/list.html", context)


@org_member_required
def person_detail(request: HttpRequest, person_pk: int, *, membership: Membership) -> HttpResponse:
    """One person: what they count toward, at which step, and their certifications."""
    today = timezone.localdate()
    person = _person_or_404(membership, person_pk)
    contributions = page_contributions(people=[person], as_of=today)[person.pk]
    context = _context(
        membership,
        person=person,
        row=people_presenters.person_row(person, contributions, today=today),
        certification_form=HeldCertificationForm() if membership.is_admin else None,
    )
    return render(request, "scoring/people/detail.html", context)


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def person_add(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = people_services.person_create(
                organization=membership.organization, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": person.name})
            return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)
    return render(
        request, "scoring/people/person_form.html", _context(membership, form=form, person=None)
    )


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_pk: int, *, membership: Membership) -> HttpResponse:
    person = _person_or_404(membership, person_pk)
    initial = {"person_id": person.person_id, "name": person.name, "email": person.email}
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            people_services.person_update(person=person, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": person.name})
            return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)
    return render(
        request, "scoring/people/person_form.html", _context(membership, form=form, person=person)
    )


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def person_deactivate(
    request: HttpRequest, person_pk: int, *, membership: Membership
) -> HttpResponse:
    """Ask, then deactivate: the person's certifications stop counting; the rows are kept."""
    person = _person_or_404(membership, person_pk)
    if request.method == "POST":
        people_services.person_update(person=person, actor=request.user, active=False)
        messages.success(request, _("%(name)s was deactivated.") % {"name": person.name})
        return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)
    return render(
        request, "scoring/people/person_deactivate.html", _context(membership, person=person)
    )


@org_member_required
@org_admin_required
@require_POST
def person_reactivate(
    request: HttpRequest, person_pk: int, *, membership: Membership
) -> HttpResponse:
    person = _person_or_404(membership, person_pk)
    people_services.person_update(person=person, actor=request.user, active=True)
    messages.success(request, _("%(name)s was reactivated.") % {"name": person.name})
    return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def certification_add(
    request: HttpRequest, person_pk: int, *, membership: Membership
) -> HttpResponse:
    person = _person_or_404(membership, person_pk)
    form = HeldCertificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            held = people_services.held_certification_create(
                person=person, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                _("%(code)s was added to %(name)s.")
                % {"code": held.certification.code, "name": person.name},
            )
            return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)
    context = _context(membership, form=form, person=person, held=None)
    return render(request, "scoring/people/certification_form.html", context)


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def certification_edit(
    request: HttpRequest, person_pk: int, held_pk: int, *, membership: Membership
) -> HttpResponse:
    person = _person_or_404(membership, person_pk)
    held = _held_or_404(membership, person, held_pk)
    initial = {"earned_on": held.earned_on, "expires_on": held.expires_on}
    form = HeldCertificationForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            people_services.held_certification_update(
                held=held, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("%(code)s was saved.") % {"code": held.certification.code})
            return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)
    context = _context(membership, form=form, person=person, held=held)
    return render(request, "scoring/people/certification_form.html", context)


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def certification_remove(
    request: HttpRequest, person_pk: int, held_pk: int, *, membership: Membership
) -> HttpResponse:
    """Ask, then remove a certification the person no longer holds."""
    person = _person_or_404(membership, person_pk)
    held = _held_or_404(membership, person, held_pk)
    if request.method == "POST":
        code = held.certification.code
        people_services.held_certification_delete(held=held, actor=request.user)
        messages.success(
            request, _("%(code)s was removed from %(name)s.") % {"code": code, "name": person.name}
        )
        return redirect("org_person", slug=membership.organization.slug, person_pk=person.pk)
    context = _context(membership, person=person, held=held)
    return render(request, "scoring/people/certification_remove.html", context)


@org_member_required
@org_admin_required
@require_http_methods(["GET", "POST"])
def people_upload(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """A CSV of this organization's people or certifications: all rows or none, a row report."""
    form = PeopleUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = import_csv_for_organization(
            form.cleaned_data["kind"],
            form.cleaned_data["file"],
            organization=membership.organization,
            actor=request.user,
        )
        if result.ok:
            messages.success(
                request,
                _("Imported %(rows)s rows: %(created)s new, %(updated)s changed.")
                % {"rows": result.rows, "created": result.created, "updated": result.updated},
            )
            return redirect("org_people", slug=membership.organization.slug)
    context = _context(
        membership, form=form, result=result, partner_id=membership.organization.partner_id
    )
    return render(request, "scoring/people/upload.html", context)
