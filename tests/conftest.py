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
def _default_language(settings):
    """Each test starts in the default language: a request in Japanese leaves its language active
    in the thread (LocaleMiddleware), and messages built by services after it would follow."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and used TOTP codes live in the cache; tests must not share them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _clear_rules_cache():
    """The rule sets in force are kept per process while the rule tables' stamp is unchanged; a
    test that edits a rule row with a plain update() (no history row, same count) and is rolled
    back would otherwise leave its edited rules to the next test."""
    from scoring.selectors import _RULES_CACHE

    _RULES_CACHE.clear()
    yield
    _RULES_CACHE.clear()


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


CATALOG_MIGRATIONS = [
    ("0002_program_catalog", "load_catalog"),
    ("0008_published_versions", "load"),
    ("0013_security_2026_deployment_bands", "split"),
    ("0014_certifications_without_exam_codes", "add"),
]


@pytest.fixture
def shipped_catalog(transactional_db):
    """The program catalog the scoring migrations ship, for transactional tests.

    A transactional test ends with a flush that empties every table, shipped catalog included.
    Django's serialized_rollback would restore it, but the serialized copy lives on the
    connection object, and the Playwright session (its event loop) makes later tests see fresh
    connection objects without it; so the catalog is loaded again here when it is missing.
    """
    import importlib

    from django.apps import apps

    from scoring.models import RuleSet

    if not RuleSet.objects.exists():
        # Every data migration of the catalog, in order: the seed, the published versions and
        # what changed them since (a catalog of the seed alone scores today by the 2022 rules).
        for module, function in CATALOG_MIGRATIONS:
            migration = importlib.import_module(f"scoring.migrations.{module}")
            getattr(migration, function)(apps, None)
