"""The members page: admins invite, change roles, remove, revoke; members only look."""

import pytest
from django.urls import reverse

from portal.exceptions import ApplicationError
from portal.models import Invitation, Membership
from portal.services import membership_change_role, membership_remove
from tests.factories import InvitationFactory, MembershipFactory


def _state(org):
    return (
        sorted(Membership.objects.for_org(org).values_list("pk", "user_id", "role")),
        sorted(Invitation.objects.for_org(org).values_list("pk", "email", "revoked_at")),
    )


@pytest.mark.django_db
def test_member_sees_the_list_read_only(client, org, admin_member, member):
    client.force_login(member)
    response = client.get(reverse("org_members", args=[org.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    assert admin_member.email in body and member.email in body
    assert "Send invitation" not in body
    assert "Change role" not in body
    assert "Only admins of the partner organization" in body


@pytest.mark.django_db
def test_admin_sees_the_controls_and_open_invitations(client, org, admin_member, member):
    InvitationFactory(organization=org, email="pending@example.com")
    client.force_login(admin_member)
    body = client.get(reverse("org_members", args=[org.slug])).content.decode()
    assert "Send invitation" in body
    assert "Change role" in body
    assert "pending@example.com" in body


@pytest.mark.django_db
def test_member_gets_403_on_every_admin_action(client, org, admin_member, member):
    invitation = InvitationFactory(organization=org)
    target = Membership.objects.for_org(org).get(user=admin_member)
    client.force_login(member)
    before = _state(org)
    posts = [
        (
            reverse("org_member_invite", args=[org.slug]),
            {"email": "x@example.com", "role": "admin"},
        ),
        (reverse("org_member_role", args=[org.slug, target.pk]), {"role": "member"}),
        (reverse("org_member_remove", args=[org.slug, target.pk]), {}),
        (reverse("org_invitation_revoke", args=[org.slug, invitation.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert _state(org) == before


@pytest.mark.django_db
def test_admin_invites_from_the_page(client, org, admin_member, django_capture_on_commit_callbacks):
    client.force_login(admin_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("org_member_invite", args=[org.slug]),
            {"email": "new@example.com", "role": "member"},
            follow=True,
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Invitation sent to new@example.com" in body
    assert "new@example.com" in body.split("Open invitations", 1)[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "new@example.com", "role": "owner"}, "Select a valid choice"),
        ({"email": "not-an-address", "role": "member"}, "Enter a valid email address"),
        ({"email": "", "role": "member"}, "This field is required"),
    ],
)
def test_invite_with_bad_input_shows_form_errors(client, org, admin_member, data, message):
    client.force_login(admin_member)
    before = _state(org)
    response = client.post(reverse("org_member_invite", args=[org.slug]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _state(org) == before


@pytest.mark.django_db
def test_inviting_a_member_again_is_refused_with_a_message(client, org, admin_member, member):
    client.force_login(admin_member)
    before = _state(org)
    response = client.post(
        reverse("org_member_invite", args=[org.slug]), {"email": member.email, "role": "member"}
    )
    assert response.status_code == 400
    assert "is already a member" in response.content.decode()
    assert _state(org) == before


@pytest.mark.django_db
def test_admin_changes_a_role(client, org, admin_member, member):
    target = Membership.objects.for_org(org).get(user=member)
    client.force_login(admin_member)
    response = client.post(
        reverse("org_member_role", args=[org.slug, target.pk]), {"role": "admin"}, follow=True
    )
    assert f"{member.email} is now Admin" in response.content.decode()
    target.refresh_from_db()
    assert target.role == Membership.Role.ADMIN
    assert target.history.first().history_user == admin_member


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "", "ADMIN", "admin; DROP TABLE"])
def test_wrong_role_value_is_a_form_error_and_changes_nothing(
    client, org, admin_member, member, role
):
    target = Membership.objects.for_org(org).get(user=member)
    client.force_login(admin_member)
    before = _state(org)
    response = client.post(reverse("org_member_role", args=[org.slug, target.pk]), {"role": role})
    assert response.status_code == 400
    assert "Choose a valid role" in response.content.decode()
    assert _state(org) == before


@pytest.mark.django_db
def test_the_last_admin_cannot_be_demoted_or_removed(client, org, admin_member, member):
    me = Membership.objects.for_org(org).get(user=admin_member)
    client.force_login(admin_member)
    before = _state(org)

    response = client.post(reverse("org_member_role", args=[org.slug, me.pk]), {"role": "member"})
    assert response.status_code == 400
    assert "at least one admin" in response.content.decode()
    response = client.post(reverse("org_member_remove", args=[org.slug, me.pk]))
    assert response.status_code == 400
    assert "at least one admin" in response.content.decode()

    assert _state(org) == before


@pytest.mark.django_db
def test_an_admin_can_step_down_when_another_admin_remains(org, admin_member):
    other_admin = MembershipFactory(organization=org, role="admin")
    me = Membership.objects.for_org(org).get(user=admin_member)
    membership_change_role(organization=org, actor=admin_member, membership_id=me.pk, role="member")
    me.refresh_from_db()
    assert me.role == "member"
    with pytest.raises(ApplicationError):
        membership_remove(organization=org, actor=other_admin.user, membership_id=other_admin.pk)


@pytest.mark.django_db
def test_admin_removes_a_member(client, org, admin_member, member):
    target = Membership.objects.for_org(org).get(user=member)
    client.force_login(admin_member)
    response = client.post(reverse("org_member_remove", args=[org.slug, target.pk]), follow=True)
    assert "The member has been removed" in response.content.decode()
    assert not Membership.objects.for_org(org).filter(user=member).exists()
    # The removed member now gets 404 on the organization.
    client.force_login(member)
    assert client.get(reverse("org_home", args=[org.slug])).status_code == 404


@pytest.mark.django_db
def test_admin_revokes_an_invitation(client, org, admin_member):
    invitation = InvitationFactory(organization=org, email="pending@example.com")
    client.force_login(admin_member)
    response = client.post(
        reverse("org_invitation_revoke", args=[org.slug, invitation.pk]), follow=True
    )
    assert "has been revoked" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


@pytest.mark.django_db
def test_ids_of_another_organization_are_refused(client, org, other_org, admin_member):
    foreign_membership = MembershipFactory(organization=other_org, role="member")
    foreign_invitation = InvitationFactory(organization=other_org)
    client.force_login(admin_member)
    before = _state(other_org)

    response = client.post(
        reverse("org_member_role", args=[org.slug, foreign_membership.pk]), {"role": "admin"}
    )
    assert response.status_code == 400
    response = client.post(reverse("org_member_remove", args=[org.slug, foreign_membership.pk]))
    assert response.status_code == 400
    response = client.post(reverse("org_invitation_revoke", args=[org.slug, foreign_invitation.pk]))
    assert response.status_code == 400

    assert _state(other_org) == before


@pytest.mark.django_db
def test_actions_are_post_only(client, org, admin_member):
    client.force_login(admin_member)
    assert client.get(reverse("org_member_invite", args=[org.slug])).status_code == 405


@pytest.mark.django_db
def test_members_page_query_ceiling(client, org, admin_member, django_assert_max_num_queries):
    for _ in range(15):
        MembershipFactory(organization=org)
    for _ in range(5):
        InvitationFactory(organization=org, invited_by=admin_member)
    client.force_login(admin_member)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("org_members", args=[org.slug]))
    assert response.content.decode().count('name="role"') == 16 + 1  # rows + invite form


@pytest.mark.django_db
def test_remove_asks_for_confirmation_before_anything_changes(client, org, admin_member, member):
    target = Membership.objects.for_org(org).get(user=member)
    client.force_login(admin_member)
    members_page = client.get(reverse("org_members", args=[org.slug])).content.decode()
    remove_url = reverse("org_member_remove", args=[org.slug, target.pk])
    # The members page links to the confirmation; it holds no one-click removal form.
    assert f'href="{remove_url}"' in members_page
    assert f'action="{remove_url}"' not in members_page

    before = _state(org)
    confirm = client.get(remove_url)
    assert confirm.status_code == 200
    assert f"Remove {member.email}?" in confirm.content.decode()
    assert f'action="{remove_url}"' in confirm.content.decode()
    assert _state(org) == before

    client.post(remove_url)
    assert not Membership.objects.for_org(org).filter(pk=target.pk).exists()


@pytest.mark.django_db
def test_the_confirmation_of_another_organizations_member_is_404(
    client, org, other_org, admin_member, other_member
):
    theirs = Membership.objects.for_org(other_org).get(user=other_member)
    client.force_login(admin_member)
    assert client.get(reverse("org_member_remove", args=[org.slug, theirs.pk])).status_code == 404
