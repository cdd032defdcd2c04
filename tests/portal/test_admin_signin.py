"""Staff sign in to the admin through allauth: the TOTP step and the login rate limit apply."""

from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


def _signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


def _totp_code(secret: str) -> str:
    """The code an authenticator app shows now (the tests freeze time around it)."""
    counter = int(timezone.now().timestamp()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def _changelist_urls() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def _admin_sign_in_page(client) -> str:
    """Where `/admin/` sends a signed-out visitor, redirects followed."""
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 200
    return response.redirect_chain[-1][0]


def _credentials(email: str, password: str) -> dict[str, str]:
    # Django's admin form names the address `username`, allauth's `login`: whichever page the
    # admin sends staff to, the same post is a complete sign-in attempt there.
    return {"username": email, "login": email, "password": password}


@pytest.fixture
def staff_with_totp(staff):
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff, secret


@pytest.mark.django_db
def test_staff_with_totp_reach_no_admin_page_until_the_code_is_given(client, staff_with_totp):
    staff, secret = staff_with_totp
    admin_pages = [reverse("admin:index"), *_changelist_urls()]
    assert len(admin_pages) > 10  # every registered model admin, not a hand-picked few

    with time_machine.travel(timezone.now(), tick=False):
        # Given the right password posted to the sign-in page the admin leads to
        client.post(_admin_sign_in_page(client), _credentials(staff.email, PASSWORD))

        # Then no admin page opens: each sends the visitor back to sign in
        assert _signed_in_as(client) is None
        for url in admin_pages:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("admin:login")), url

        # When the TOTP code is given, the admin opens where the sign-in started
        response = client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert _signed_in_as(client) == str(staff.pk)
    for url in admin_pages:
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_allauths_sign_in_with_next(client):
    changelist = reverse("admin:portal_organization_changelist")

    response = client.get(changelist, follow=True)

    final = urlsplit(response.redirect_chain[-1][0])
    assert final.path == reverse("account_login")
    assert parse_qs(final.query)["next"] == [changelist]
    assert "account/login.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_a_password_posted_to_the_admin_login_does_not_sign_in(client, staff):
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {**_credentials(staff.email, PASSWORD), "next": "/admin/"},
    )

    assert _signed_in_as(client) is None
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("account_login")
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_signed_in_staff_cannot_switch_account_through_the_admin_login(client, staff_with_totp):
    other_staff = UserFactory(email="other-staff@example.com", is_staff=True)
    client.force_login(other_staff)
    staff, _secret = staff_with_totp

    # The TOTP-protected account's password alone must not take over the session.
    response = client.post(reverse("admin:login"), _credentials(staff.email, PASSWORD))

    assert response.status_code == 302
    assert _signed_in_as(client) == str(other_staff.pk)


@pytest.mark.django_db
def test_wrong_passwords_on_the_admin_sign_in_are_throttled(client, staff):
    page = _admin_sign_in_page(client)
    for _ in range(12):
        client.post(page, _credentials(staff.email, "wrong-password"))
        assert _signed_in_as(client) is None

    # The right password is refused too while the limit holds.
    response = client.post(page, _credentials(staff.email, PASSWORD))

    assert _signed_in_as(client) is None
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_a_signed_in_non_staff_user_gets_no_admin_page(client, member):
    client.force_login(member)

    for url in [reverse("admin:login"), reverse("admin:index"), *_changelist_urls()]:
        response = client.get(url, follow=True)
        assert response.status_code == 403, url
        assert "The admin is for program staff" in response.content.decode(), url
        assert "admin/login.html" not in [t.name for t in response.templates], url


@pytest.mark.django_db
def test_admin_password_change_is_allauths_and_logout_ends_the_session(client, staff):
    client.force_login(staff)

    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_change_password")

    response = client.post(reverse("admin:logout"))
    assert response.status_code == 200
    assert _signed_in_as(client) is None
    assert urlsplit(_admin_sign_in_page(client)).path == reverse("account_login")
