"""`manage.py seed_demo`: realistic demo data, created once."""

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command

from portal.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DEMO_STAFF_EMAIL, seed_demo_portal
from portal.models import HeldCertification, Membership, Organization, Person, User


def _row_counts() -> dict[str, int]:
    """Rows of every portal model and its audit trail, plus allauth's addresses."""
    counts = {
        model._meta.label: model._default_manager.all().count()
        if not hasattr(model.objects, "unscoped")
        else model.objects.unscoped().count()
        for model in apps.get_app_config("portal").get_models()
    }
    counts["account.EmailAddress"] = EmailAddress.objects.count()
    return counts


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(capsys):
    call_command("seed_demo")
    first = _row_counts()
    passwords = dict(User.objects.values_list("email", "password"))
    output = capsys.readouterr().out

    call_command("seed_demo")

    assert _row_counts() == first
    assert dict(User.objects.values_list("email", "password")) == passwords
    assert DEMO_ADMIN_EMAIL in output and DEMO_STAFF_EMAIL in output and DEMO_PASSWORD in output


@pytest.mark.django_db
def test_demo_content_is_realistic(client):
    logins = seed_demo_portal()

    organizations = Organization.objects.unscoped()
    assert organizations.count() == 3
    sakura = organizations.get(country="JP")
    assert sakura.name == "株式会社さくらクラウド"
    people = Person.objects.for_org(sakura)
    assert "佐藤 健" in set(people.values_list("name", flat=True))
    security_six = [
        person
        for person in people
        if {"MS-500", "AZ-500"}
        <= set(
            HeldCertification.objects.for_org(sakura)
            .filter(person=person)
            .values_list("certification__code", flat=True)
        )
    ]
    assert len(security_six) >= 6

    admin = User.objects.get(email=logins.admin_email)
    assert Membership.objects.unscoped().filter(user=admin, role="admin").count() == 2
    staff = User.objects.get(email=logins.staff_email)
    assert staff.is_staff and staff.is_superuser
    for user in (admin, staff):
        assert EmailAddress.objects.get(user=user).verified

    # The printed logins work.
    response = client.post(
        "/accounts/login/", {"login": logins.admin_email, "password": logins.password}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # two organizations: the switcher page
