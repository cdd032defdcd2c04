"""The Customers tab: the organization's associated customers, their latest figures and what
each is eligible to count for (`scoring.customer_selectors`). Read-only, for every member."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.access import org_member_required
from portal.models import Membership
from scoring import customer_presenters
from scoring.customer_selectors import (
    CustomerQuery,
    customer_entries,
    customer_list,
    customers_eligible_toward,
)
from scoring.models import AssociationType, Platform
from scoring.people_selectors import designation_choices

PAGE_SIZE = 25


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or customer ID"), required=False, max_length=100)
    platform = forms.ChoiceField(
        label=_("Platform"), required=False, choices=[("", _("Any platform")), *Platform.choices]
    )
    type = forms.ChoiceField(
        label=_("Association type"),
        required=False,
        choices=[("", _("Any type")), *AssociationType.choices],
    )
    designation = forms.ChoiceField(label=_("Eligible toward"), required=False)
    current = forms.BooleanField(label=_("Associated this month"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["designation"]).choices = [
            ("", _("Any designation")),
            *designation_choices(),
        ]

    def query(self) -> CustomerQuery:
        """The filters; a bad value is ignored, as if not given."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        return CustomerQuery(
            search=(data.get("q") or "").strip(),
            platform=data.get("platform") or "",
            association_type=data.get("type") or "",
            current_only=bool(data.get("current")),
            designation=data.get("designation") or "",
        )


@org_member_required
def customers(request: HttpRequest, *, membership: Membership) -> HttpResponse:
    """Associated customers: association types and months, latest figures, eligibility."""
    organization = membership.organization
    today = timezone.localdate()
    filters = CustomerFilterForm(request.GET)
    query = filters.query()
    found: Any = customer_list(organization=organization, query=query, as_of=today)
    if query.designation:
        found = customers_eligible_toward(
            organization=organization,
            customers=found,
            designation_code=query.designation,
            as_of=today,
        )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    entries = customer_entries(
        organization=organization, customers=list(page.object_list), as_of=today
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "organization": organization,
        "membership": membership,
        "filters": filters,
        "page": page,
        "rows": [customer_presenters.customer_row(e) for e in entries],
        "query_string": params.urlencode(),
        "filtered": any(
            (
                query.search,
                query.platform,
                query.association_type,
                query.current_only,
                query.designation,
            )
        ),
    }
    return render(request, "scoring/customers.html", context)
