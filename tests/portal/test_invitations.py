"""Invitations: services and the end-to-end flow through the pages and allauth."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.exceptions import ApplicationError
from portal.models import Invitation, Membership, User
from portal.services import (
    invitation_accept,
    invitation_create,
    invitation_get_open_for_signup,
    invitation_record_signup,
    invitation_revoke,
)
from tests.factories import InvitationFactory, MembershipFactory, UserFactory

PASSWORD = "correct-horse-battery-staple"
SITE = "http://testserver/"


def _link_path(body: str, pattern: str) -> str:
    match = re.search(r"https?://testserver(\S*?" + pattern + r"\S*)", body)
    assert match is not None, body
    return match.group(1)


def _snapshot(organization):
    """Everything an invitation request could change, to prove nothing did."""
    return (
        sorted(Membership.objects.for_org(organization).values_list("user_id", "role")),
        sorted(
            Invitation.objects.for_org(organization).values_list(
                "pk", "accepted_at", "revoked_at", "expires_at", "signed_up_at"
            )
        ),
        User.objects.count(),
        EmailAddress.objects.count(),
    )


NEW_PASSWORD = "a-long-new-password-42"


def _sign_up(client, email: str):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def _email_input(html: str) -> str:
    match = re.search(r'<input[^>]*name="email"[^>]*>', html)
    assert match is not None, html
    return match.group(0)


# --- services -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_invitation_create_normalizes_and_mails_on_commit(
    org, admin_member, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation = invitation_create(
            organization=org,
            actor=admin_member,
            email="  New.Person@Example.COM ",
            role="admin",
            site_url=SITE,
        )
    assert invitation.email == "new.person@example.com"
    assert invitation.role == Membership.Role.ADMIN
    assert invitation.invited_by == admin_member
    assert len(callbacks) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert f"/invitations/{invitation.token}/" in mail.outbox[0].body
    assert org.name in mail.outbox[0].subject


@pytest.mark.django_db
def test_no_mail_when_the_transaction_does_not_commit(org, admin_member):
    # pytest-django wraps the test in a transaction that never commits: on_commit never fires.
    invitation_create(
        organization=org, actor=admin_member, email="a@example.com", role="member", site_url=SITE
    )
    assert mail.outbox == []


@pytest.mark.django_db
def test_only_admins_invite(org, member):
    with pytest.raises(PermissionDenied):
        invitation_create(
            organization=org, actor=member, email="a@example.com", role="member", site_url=SITE
        )
    assert not Invitation.objects.for_org(org).exists()


@pytest.mark.django_db
def test_admin_of_another_org_cannot_invite(org, other_member):
    with pytest.raises(PermissionDenied):
        invitation_create(
            organization=org,
            actor=other_member,
            email="a@example.com",
            role="member",
            site_url=SITE,
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "role", "message"),
    [
        ("not-an-email", "member", "valid e-mail"),
        ("a@example.com", "owner", "Unknown role"),
    ],
)
def test_invitation_create_refuses_bad_input(org, admin_member, email, role, message):
    with pytest.raises(ApplicationError, match=message):
        invitation_create(
            organization=org, actor=admin_member, email=email, role=role, site_url=SITE
        )
    assert not Invitation.objects.for_org(org).exists()


@pytest.mark.django_db
def test_invitation_create_refuses_existing_member_and_open_duplicate(org, admin_member, member):
    with pytest.raises(ApplicationError, match="already a member"):
        invitation_create(
            organization=org,
            actor=admin_member,
            email=member.email.upper(),
            role="member",
            site_url=SITE,
        )
    invitation_create(
        organization=org, actor=admin_member, email="a@example.com", role="member", site_url=SITE
    )
    with pytest.raises(ApplicationError, match="already has an open invitation"):
        invitation_create(
            organization=org,
            actor=admin_member,
            email="A@example.com",
            role="admin",
            site_url=SITE,
        )
    assert Invitation.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_an_expired_invitation_can_be_renewed(org, admin_member):
    old = InvitationFactory(
        organization=org, email="a@example.com", expires_at=timezone.now() - timedelta(days=1)
    )
    new = invitation_create(
        organization=org, actor=admin_member, email="a@example.com", role="member", site_url=SITE
    )
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert new.is_open


@pytest.mark.django_db
def test_same_address_may_be_invited_by_two_organizations(org, other_org, admin_member):
    other_admin = MembershipFactory(organization=other_org, role="admin").user
    invitation_create(
        organization=org, actor=admin_member, email="a@example.com", role="member", site_url=SITE
    )
    invitation_create(
        organization=other_org,
        actor=other_admin,
        email="a@example.com",
        role="member",
        site_url=SITE,
    )
    assert Invitation.objects.unscoped().filter(email="a@example.com").count() == 2


@pytest.mark.django_db
def test_invitation_accept_is_idempotent_and_records_who(org):
    invitation = InvitationFactory(organization=org, email="bob@example.com", role="admin")
    bob = UserFactory(email="bob@example.com")

    first = invitation_accept(token=invitation.token, user=bob)
    second = invitation_accept(token=invitation.token, user=bob)

    assert first == second
    assert first.role == Membership.Role.ADMIN
    invitation.refresh_from_db()
    assert invitation.accepted_by == bob
    assert invitation.accepted_at is not None
    assert Membership.objects.for_org(org).filter(user=bob).count() == 1
    assert invitation.history.first().history_user == bob


@pytest.mark.django_db
def test_invitation_accept_needs_the_invited_address_verified(org):
    invitation = InvitationFactory(organization=org, email="bob@example.com")
    mallory = UserFactory(email="mallory@example.com")
    unverified = User.objects.create_user(email="bob@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=unverified, email=unverified.email, verified=False)

    for user in (mallory, unverified):
        with pytest.raises(ApplicationError, match=r"bob@example\.com"):
            invitation_accept(token=invitation.token, user=user)

    invitation.refresh_from_db()
    assert invitation.is_open
    assert not Membership.objects.for_org(org).exists()


@pytest.mark.django_db
def test_another_user_cannot_reuse_an_accepted_invitation(org):
    invitation = InvitationFactory(organization=org, email="bob@example.com")
    invitation_accept(token=invitation.token, user=UserFactory(email="bob@example.com"))
    eve = UserFactory(email="eve@example.com")

    with pytest.raises(ApplicationError, match="already been used"):
        invitation_accept(token=invitation.token, user=eve)


@pytest.mark.django_db
def test_an_invitation_records_one_sign_up_for_the_invited_address(org):
    invitation = InvitationFactory(organization=org, email="bob@example.com")
    assert invitation_get_open_for_signup(token=invitation.token) == invitation
    eve = User.objects.create_user(email="eve@example.com", password=PASSWORD)

    with pytest.raises(ApplicationError, match=r"for bob@example\.com"):
        invitation_record_signup(token=invitation.token, user=eve)
    bob = User.objects.create_user(email="Bob@Example.com", password=PASSWORD)
    invitation_record_signup(token=invitation.token, user=bob)

    invitation.refresh_from_db()
    assert invitation.signed_up_by == bob
    assert invitation.signed_up_at is not None
    assert invitation.history.first().history_user == bob
    assert invitation.is_open  # still to be accepted, once the address is verified
    with pytest.raises(ApplicationError, match="already been created"):
        invitation_record_signup(token=invitation.token, user=bob)
    # The link stays used even if that account goes away.
    bob.delete()
    with pytest.raises(ApplicationError, match="already been created"):
        invitation_get_open_for_signup(token=invitation.token)


@pytest.mark.django_db
def test_an_address_with_an_account_cannot_sign_up_through_an_invitation(org):
    invitation = InvitationFactory(organization=org, email="bob@example.com")
    UserFactory(email="BOB@example.com")

    with pytest.raises(ApplicationError, match="already has an account"):
        invitation_get_open_for_signup(token=invitation.token)


@pytest.mark.django_db
def test_invitation_revoke(org, admin_member, member):
    invitation = InvitationFactory(organization=org)
    with pytest.raises(PermissionDenied):
        invitation_revoke(organization=org, actor=member, invitation_id=invitation.pk)
    invitation_revoke(organization=org, actor=admin_member, invitation_id=invitation.pk)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert invitation.history.first().history_user == admin_member
    with pytest.raises(ApplicationError):
        invitation_accept(token=invitation.token, user=UserFactory(email=invitation.email))


@pytest.mark.django_db
def test_revoke_refuses_another_organizations_invitation(org, other_org, admin_member):
    foreign = InvitationFactory(organization=other_org)
    with pytest.raises(ApplicationError):
        invitation_revoke(organization=org, actor=admin_member, invitation_id=foreign.pk)
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


# --- the flow through the pages -------------------------------------------------------------


@pytest.mark.django_db
def test_invite_sign_up_verify_join(client, org, admin_member, django_capture_on_commit_callbacks):
    # Given an admin invites a new address from the members page
    client.force_login(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("org_member_invite", args=[org.slug]),
            {"email": "Newbie@Example.com", "role": "admin"},
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    invitation_path = _link_path(mail.outbox[0].body, "/invitations/")
    client.logout()

    # When the signed-out invitee opens the link, signs up and verifies the address
    response = client.get(invitation_path)
    assert response.status_code == 200
    assert b"Create an account" in response.content
    response = client.get(reverse("account_signup") + "?email=newbie%40example.com")
    assert response.status_code == 200
    assert b"signup_closed" not in response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "email": "newbie@example.com",
                "password1": "a-long-new-password-42",
                "password2": "a-long-new-password-42",
            },
        )
    assert response.status_code == 302
    newbie = User.objects.get(email="newbie@example.com")
    assert not Membership.objects.for_org(org).filter(user=newbie).exists()  # not verified yet
    confirm_path = _link_path(mail.outbox[-1].body, "/accounts/confirm-email/")
    assert client.get(confirm_path).status_code == 200
    response = client.post(confirm_path, follow=True)

    # Then the membership exists with the invited role, and the invitee lands on the org
    membership = Membership.objects.for_org(org).get(user=newbie)
    assert membership.role == Membership.Role.ADMIN
    invitation = Invitation.objects.for_org(org).get()
    assert invitation.accepted_by == newbie
    assert invitation.signed_up_by == newbie
    assert "invitation_token" not in client.session
    assert response.redirect_chain[-1][0] == reverse("org_home", args=[org.slug])
    assert f"Welcome to {org.name}" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["someone-else@example.com", "invited@example.com.attacker.test"])
def test_sign_up_through_an_invitation_with_another_address_is_refused(client, org, email):
    invitation = InvitationFactory(organization=org, email="invited@example.com")
    client.get(reverse("invitation_accept", args=[invitation.token]))
    before = _snapshot(org)

    # A forged post: the page's field is read-only, the server must refuse it anyway.
    response = _sign_up(client, email)

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert _snapshot(org) == before
    assert mail.outbox == []
    invitation.refresh_from_db()
    assert invitation.is_open
    assert invitation.signed_up_at is None


@pytest.mark.django_db
def test_the_signup_form_shows_the_invited_address_read_only(client, org):
    invitation = InvitationFactory(organization=org, email="invited@example.com")
    client.get(reverse("invitation_accept", args=[invitation.token]))

    # Even without the link's ?email=, the form carries the invited address, not editable.
    response = client.get(reverse("account_signup"))

    assert response.status_code == 200
    field = _email_input(response.content.decode())
    assert 'value="invited@example.com"' in field
    assert "readonly" in field
    assert org.name in response.content.decode()


@pytest.mark.django_db
def test_a_second_sign_up_through_the_same_link_is_refused(
    client, org, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(organization=org, email="invited@example.com")
    path = reverse("invitation_accept", args=[invitation.token])
    client.get(path)
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, "invited@example.com")
    assert response.status_code == 302
    invitee = User.objects.get(email="invited@example.com")
    before = _snapshot(org)

    for browser in (client, Client()):  # the same session, and the link opened afresh
        response = browser.get(path)
        assert response.status_code == 200
        assert b"Create an account" not in response.content
        assert "Sign in as invited@example.com" in response.content.decode()
        response = browser.get(reverse("account_signup"))
        assert "account/signup_closed.html" in [t.name for t in response.templates]
        for email in ("someone-else@example.com", "invited@example.com"):
            response = _sign_up(browser, email)
            assert "account/signup_closed.html" in [t.name for t in response.templates]

    assert _snapshot(org) == before
    invitation.refresh_from_db()
    assert invitation.signed_up_by == invitee


@pytest.mark.django_db
def test_an_account_is_not_kept_when_the_invitation_refuses_to_record_it(client, org, monkeypatch):
    invitation = InvitationFactory(organization=org, email="invited@example.com")
    path = reverse("invitation_accept", args=[invitation.token])
    client.get(path)
    before = _snapshot(org)

    # As when a concurrent sign-up through the same link recorded its account first.
    def used_up(*, token, user):
        raise ApplicationError("This invitation was used a moment ago.")

    monkeypatch.setattr("portal.forms.invitation_record_signup", used_up)
    response = _sign_up(client, "invited@example.com")

    assert response.status_code == 302
    assert response["Location"] == path
    assert _snapshot(org) == before
    assert "This invitation was used a moment ago." in client.get(path).content.decode()


@pytest.mark.django_db
def test_an_address_that_has_an_account_is_sent_to_sign_in(client, org):
    invitation = InvitationFactory(organization=org, email="bob@example.com")
    UserFactory(email="bob@example.com")
    path = reverse("invitation_accept", args=[invitation.token])
    before = _snapshot(org)

    response = client.get(path)

    assert b"Create an account" not in response.content
    assert "bob@example.com already has an account" in response.content.decode()
    assert reverse("account_login") + "?next=" in response.content.decode()
    response = client.get(reverse("account_signup"))
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    _sign_up(client, "someone-else@example.com")
    assert _snapshot(org) == before


@pytest.mark.django_db
def test_open_signup_without_an_invitation_takes_any_address(client, settings):
    settings.OPEN_SIGNUP = True

    response = client.get(reverse("account_signup"))
    assert "readonly" not in _email_input(response.content.decode())
    response = _sign_up(client, "anyone@example.com")

    assert response.status_code == 302
    assert User.objects.filter(email="anyone@example.com").exists()


@pytest.mark.django_db
def test_existing_user_signs_in_and_accepts(client, org):
    invitation = InvitationFactory(organization=org, email="bob@example.com", role="member")
    bob = UserFactory(email="bob@example.com")
    path = reverse("invitation_accept", args=[invitation.token])

    response = client.get(path)
    assert b"Create an account" not in response.content
    assert "already has an account" in response.content.decode()
    response = client.post(
        reverse("account_login") + f"?next={path}",
        {"login": "bob@example.com", "password": PASSWORD},
    )
    assert response["Location"] == path
    response = client.get(path)
    assert response.status_code == 200
    assert b"Accept invitation" in response.content
    assert not Membership.objects.for_org(org).filter(user=bob).exists()  # a GET changes nothing

    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("org_home", args=[org.slug])
    assert Membership.objects.for_org(org).get(user=bob).role == Membership.Role.MEMBER

    # Following the link again just goes home.
    assert client.get(path).status_code == 302
    assert client.post(path).status_code == 302
    assert Membership.objects.for_org(org).filter(user=bob).count() == 1


@pytest.mark.django_db
def test_signed_in_with_the_wrong_address_is_refused(client, org):
    invitation = InvitationFactory(organization=org, email="bob@example.com")
    client.force_login(UserFactory(email="mallory@example.com"))
    before = _snapshot(org)
    path = reverse("invitation_accept", args=[invitation.token])

    response = client.get(path)
    assert b"Accept invitation" not in response.content
    assert b"bob@example.com" in response.content
    response = client.post(path)

    assert response.status_code == 403
    assert "This invitation was sent to bob@example.com" in response.content.decode()
    assert _snapshot(org) == before


def _expired(org):
    return InvitationFactory(organization=org, expires_at=timezone.now() - timedelta(minutes=1))


def _revoked(org):
    return InvitationFactory(organization=org, revoked_at=timezone.now())


def _accepted(org):
    user = UserFactory()
    MembershipFactory(organization=org, user=user)
    return InvitationFactory(
        organization=org, email=user.email, accepted_at=timezone.now(), accepted_by=user
    )


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize(
    ("make_token", "status", "message"),
    [
        (lambda org: "not a token!", 400, "malformed"),
        (lambda org: "x" * 10, 400, "malformed"),
        (lambda org: "A" * 43, 404, "not valid"),
        (lambda org: _expired(org).token, 404, "expired"),
        (lambda org: _revoked(org).token, 404, "revoked"),
        (lambda org: _accepted(org).token, 404, "already been used"),
    ],
    ids=["garbage", "short", "unknown", "expired", "revoked", "accepted"],
)
def test_unusable_invitation_links(client, org, signed_in, make_token, status, message):
    token = make_token(org)
    user = UserFactory(email="bystander@example.com")
    if signed_in:
        client.force_login(user)
    before = _snapshot(org)
    path = f"/invitations/{token}/"

    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == status
        assert message in response.content.decode()
        assert "This invitation cannot be used" in response.content.decode()

    assert _snapshot(org) == before
    assert "invitation_token" not in client.session
    if not signed_in:  # and signup stays closed
        response = client.get(reverse("account_signup"))
        assert "account/signup_closed.html" in [t.name for t in response.templates]
