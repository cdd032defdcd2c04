import pytest

from portal.models import Membership
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Contoso Security", slug="contoso", partner_id="1000001")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Fabrikam", slug="fabrikam", partner_id="2000002")


@pytest.fixture
def admin_member(org):
    return MembershipFactory(organization=org, role=Membership.Role.ADMIN).user


@pytest.fixture
def member(org):
    return MembershipFactory(organization=org, role=Membership.Role.MEMBER).user


@pytest.fixture
def other_member(other_org):
    return MembershipFactory(organization=other_org, role=Membership.Role.ADMIN).user


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and used TOTP codes live in the cache; tests must not share them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client
