"""Sign-in through allauth: e-mail + password, verification, rate limiting, reset, MFA."""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import User
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _reauthenticate(client) -> None:
    """allauth asks for the password again before an account-sensitive change (MFA)."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def _totp_code(secret: str, at_time: float) -> str:
    from allauth.mfa import app_settings

    return format_hotp_value(hotp_value(secret, int(at_time) // app_settings.TOTP_PERIOD))


@pytest.mark.django_db
def test_sign_in_with_email_and_password(client):
    user = UserFactory(email="ada@example.com")

    response = client.post(
        reverse("account_login"), {"login": "Ada@Example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_wrong_password_is_refused(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("account_login"), {"login": "ada@example.com", "password": "x"})

    assert response.status_code == 200
    assert not _signed_in(client)


@pytest.mark.django_db
def test_unverified_email_cannot_sign_in_and_gets_a_verification_mail(client):
    user = User.objects.create_user(email="new@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)

    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not _signed_in(client)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]


@pytest.mark.django_db
def test_login_is_rate_limited_after_five_failures(client):
    UserFactory(email="ada@example.com")
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": "ada@example.com", "password": "wrong"}
        )
        assert response.status_code == 200

    # The sixth attempt is refused even with the right password.
    response = client.post(
        reverse("account_login"), {"login": "ada@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert not _signed_in(client)
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_password_reset_sends_a_mail_with_a_working_link(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("account_reset_password"), {"email": "ada@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", mail.outbox[0].body)
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    assert b"password1" in response.content


@pytest.mark.django_db
def test_signup_is_closed_without_an_invitation(client):
    response = client.get(reverse("account_signup"))

    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_totp_enrolment_then_sign_in_needs_the_code(client):
    user = UserFactory(email="ada@example.com")
    client.post(reverse("account_login"), {"login": "ada@example.com", "password": PASSWORD})
    assert _signed_in(client)

    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    _reauthenticate(client)

    # Enrol: the activation page puts the secret in the session; answer with its current code.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        response = client.post(
            reverse("mfa_activate_totp"), {"code": _totp_code(secret, start.timestamp())}
        )
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    recovery = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    codes = recovery.wrap().get_unused_codes()
    assert len(codes) >= 8

    client.post(reverse("account_logout"))
    assert not _signed_in(client)

    # The password alone no longer signs in: allauth asks for the code.
    later = start + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        response = client.post(
            reverse("account_login"), {"login": "ada@example.com", "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")
        assert not _signed_in(client)

        response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert not _signed_in(client)

        response = client.post(
            reverse("mfa_authenticate"), {"code": _totp_code(secret, later.timestamp())}
        )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_a_recovery_code_signs_in_once(client):
    user = UserFactory(email="ada@example.com")
    client.post(reverse("account_login"), {"login": "ada@example.com", "password": PASSWORD})
    _reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        client.post(reverse("mfa_activate_totp"), {"code": _totp_code(secret, now.timestamp())})
    recovery = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    code = recovery.wrap().get_unused_codes()[0]
    client.post(reverse("account_logout"))

    client.post(reverse("account_login"), {"login": "ada@example.com", "password": PASSWORD})
    assert not _signed_in(client)
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert response.status_code == 302
    assert _signed_in(client)
    recovery.refresh_from_db()
    assert code not in recovery.wrap().get_unused_codes()


@pytest.mark.django_db
def test_mfa_and_account_pages_use_the_portal_layout(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    for name in ["mfa_index", "account_email", "account_change_password"]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "base.html" in [t.name for t in response.templates], name
        assert b"css/portal.css" in response.content
    client.logout()
    response = client.get(reverse("account_login"))
    assert b'class="card auth__card"' in response.content


@pytest.mark.django_db
def test_the_sign_in_page_offers_sign_up_only_when_it_is_open(client, settings):
    signup_url = reverse("account_signup")
    closed = client.get(reverse("account_login")).content.decode()
    assert f'href="{signup_url}"' not in closed
    assert "Accounts are created by invitation" in closed

    settings.OPEN_SIGNUP = True
    opened = client.get(reverse("account_login")).content.decode()
    assert f'href="{signup_url}"' in opened


@pytest.mark.django_db
def test_japanese_uses_one_word_for_sign_in_on_every_sign_in_page(client):
    """The header says サインイン; allauth's own pages and messages must not say ログイン."""
    client.cookies["django_language"] = "ja"
    for name in ("account_login", "account_reset_password", "account_signup"):
        html = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
        assert "ログイン" not in html, name
        assert "ログアウト" not in html, name
    login = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "サインイン" in login
    assert "サインインしたままにする" in login  # "Remember Me", allauth's string
