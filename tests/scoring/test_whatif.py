"""The what-if page: projections under a scenario, nothing written, isolation, queries."""

import pickle
from datetime import UTC, date, datetime
from fractions import Fraction
from types import MappingProxyType

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import Certification, HeldCertification, Person
from scoring import services
from scoring.models import (
    Association,
    Customer,
    Designation,
    MetricSource,
    RuleSet,
    ScoreSnapshot,
    TrackFreeze,
    Usage,
    UsageYear,
)
from scoring.whatif import HypotheticalCustomer, HypotheticalPerson, Scenario, whatif_project
from tests.factories import HeldCertificationFactory, PersonFactory
from tests.scoring.test_services import security_partner

AS_OF = date(2024, 6, 30)
SECURITY_CERTS = "MS-500, AZ-500, SC-200"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_2022_only")]


@pytest.fixture(autouse=True)
def _on_as_of():
    with time_machine.travel(AS_OF, tick=False):
        yield


@pytest.fixture
def security_66(org):
    """Given Security at 66.7: 0 adds but 6 Azure deployments (12), 4 individuals (26.7),
    +1,000 MPU (8), 6 deployments (20)."""
    security_partner(org, adds=0, people=4, mpu_growth=1000, deployments=6)


def url(org, **query):
    base = reverse("org_scores_whatif", args=[org.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def person_post(certifications=SECURITY_CERTS, count=1, **extra):
    data = {
        "people-TOTAL_FORMS": "1",
        "people-INITIAL_FORMS": "0",
        "people-MIN_NUM_FORMS": "0",
        "people-MAX_NUM_FORMS": "20",
        "people-0-certifications": certifications,
        "people-0-count": str(count),
        "customers-TOTAL_FORMS": "1",
        "customers-INITIAL_FORMS": "0",
        "customers-MIN_NUM_FORMS": "0",
        "customers-MAX_NUM_FORMS": "20",
        "customers-0-platform": "m365",
        "customers-0-association_type": "CPOR",
        "customers-0-count": "1",
    }
    data.update(extra)
    return data


def row_counts():
    models = (Person, HeldCertification, Customer, Association, Usage, UsageYear, ScoreSnapshot)
    return {model.__name__: model.objects.unscoped().count() if hasattr(model.objects, "unscoped")
            else model.objects.count() for model in models}  # fmt: skip


def card(body: str, code: str) -> str:
    start = body.index(f'data-testid="whatif-{code}"')
    return body[start : body.find("</section>", start)]


def projected_total(body: str, code: str) -> str:
    html = card(body, code)
    start = html.index('data-testid="projected-total">') + len('data-testid="projected-total">')
    return html[start : html.index("<", start)]


# --- the service -------------------------------------------------------------------------------


def test_a_person_with_the_right_certifications_lifts_security_to_qualified(org, security_66):
    scenario = Scenario(people=(HypotheticalPerson(certifications=("MS-500", "AZ-500", "SC-200")),))
    result = whatif_project(organization=org, scenario=scenario, as_of=AS_OF)
    security = next(p for p in result.projections if p.rule_set.designation_code == "security")
    assert not security.current.qualified
    assert security.projected.total > security.current.total
    skilling = {m.code: m.points for m in security.projected.metrics}
    assert skilling["intermediate_certifications"] == Fraction(200, 6)
    assert security.projected.qualified


def test_a_person_counts_only_where_the_certifications_count(org, security_66):
    scenario = Scenario(people=(HypotheticalPerson(certifications=("AZ-104",)),))
    result = whatif_project(organization=org, scenario=scenario, as_of=AS_OF)
    changed = {
        p.rule_set.designation_code
        for p in result.projections
        if p.projected.total != p.current.total
    }
    assert changed == {"infrastructure-azure"}


def test_removing_people_and_customers_lowers_the_projection(org, security_66):
    people = list(Person.objects.for_org(org).values_list("pk", flat=True))
    customers = list(Association.objects.for_org(org).values_list("customer_id", flat=True))
    scenario = Scenario(remove_people=tuple(people[:2]), remove_customers=tuple(customers))
    result = whatif_project(organization=org, scenario=scenario, as_of=AS_OF)
    security = next(p for p in result.projections if p.rule_set.designation_code == "security")
    points = {m.code: m.points for m in security.projected.metrics}
    assert points["intermediate_certifications"] == Fraction(80, 6)
    assert points["deployments"] == 0 and points["net_customer_adds"] == 0


def test_hypothetical_deployments_count_like_real_ones(org, security_66):
    """Six Azure customers with $12,500 of security ACR each are six deployments (as the
    real ones of `security_partner`)."""
    Association.objects.for_org(org).filter(type="PAL").delete()
    before = whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF)
    customer = HypotheticalCustomer(
        platform="azure", association_type="PAL", count=6, workload="security",
        acr_usd=12500,
    )  # fmt: skip
    after = whatif_project(organization=org, scenario=Scenario(customers=(customer,)), as_of=AS_OF)

    def deployments(result):
        security = next(p for p in result.projections if p.rule_set.designation_code == "security")
        return {m.code: m.points for m in security.projected.metrics}["deployments"]

    assert deployments(before) == 0
    assert deployments(after) == 20


def test_nothing_is_written_even_by_a_big_scenario(org, security_66):
    before = row_counts()
    associated = Association.objects.for_org(org).values_list("customer_id", flat=True)
    scenario = Scenario(
        people=(HypotheticalPerson(certifications=("AZ-500", "MS-500"), count=3),),
        customers=(HypotheticalCustomer(platform="m365", association_type="CPOR", paid_seats=50),),
        remove_people=tuple(Person.objects.for_org(org).values_list("pk", flat=True)),
        remove_customers=tuple(associated),
    )  # fmt: skip
    whatif_project(organization=org, scenario=scenario, as_of=AS_OF)
    assert row_counts() == before
    assert Person.objects.for_org(org).filter(active=True).count() == 4


def test_nothing_is_written_when_the_projection_fails(org, security_66, monkeypatch):
    from scoring import whatif

    def broken(**kwargs):
        if Person.objects.unscoped().filter(name__startswith="What-if").exists():
            raise RuntimeError("measures failed")
        return real(**kwargs)

    real = whatif.compute_measures
    monkeypatch.setattr(whatif, "compute_measures", broken)
    before = row_counts()
    scenario = Scenario(people=(HypotheticalPerson(certifications=("AZ-500",)),))
    with pytest.raises(RuntimeError):
        whatif_project(organization=org, scenario=scenario, as_of=AS_OF)
    assert row_counts() == before


def test_the_shortest_path_names_the_person_security_lacks(org, security_66):
    result = whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF)
    security = next(p for p in result.projections if p.rule_set.designation_code == "security")
    assert security.path is not None
    assert security.path.size == 1
    (addition,) = security.path.additions
    assert addition.kind == "person" and addition.metric == "intermediate_certifications"


def test_the_shortest_path_names_its_certifications_in_the_users_language(org, security_66):
    from django.utils import translation

    from scoring.whatif_presenters import projection_cards

    result = whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF)

    def security_path(language: str) -> tuple[str, ...]:
        with translation.override(language):
            cards = projection_cards(result, focus="")
        return next(c for c in cards if c.code == "security").path

    (english,) = security_path("en")
    assert english.endswith("holding AZ-500 + MS-500 + one of SC-200/SC-300/SC-400")
    assert "holding holding" not in english
    (japanese,) = security_path("ja")
    assert "保有資格: AZ-500 + MS-500 + SC-200/SC-300/SC-400 のいずれか" in japanese
    assert "holding" not in japanese and "one of" not in japanese


# --- the page ----------------------------------------------------------------------------------


def test_admin_adds_a_person_and_the_projected_score_changes(admin_client, org, security_66):
    page = admin_client.get(url(org)).content.decode()
    assert projected_total(page, "security") == "66.6"
    assert 'data-testid="shortest-path"' in card(page, "security")
    response = admin_client.post(url(org), person_post())
    assert response.status_code == 200
    body = response.content.decode()
    assert projected_total(body, "security") == "73.3"
    assert 'data-testid="projected-qualified"' in card(body, "security")
    assert "Today 66.6 (+6.7)" in card(body, "security")


def test_htmx_update_returns_only_the_results(admin_client, org, security_66):
    response = admin_client.post(url(org), person_post(), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="whatif-results"')
    assert "<html" not in body
    assert projected_total(body, "security") == "73.3"


def test_errors_name_the_row_and_field_and_nothing_is_projected(admin_client, org, security_66):
    data = person_post(certifications="AZ-500, XX-999", **{"customers-0-count": "0"})
    body = admin_client.post(url(org), data, HTTP_HX_REQUEST="true").content.decode()
    assert "Person 1, Certifications: Not in the certification catalog: XX-999" in body
    assert "Customer 1, How many customers:" in body
    assert projected_total(body, "security") == "66.6"


def test_focus_puts_the_designation_first(admin_client, org, security_66):
    body = admin_client.get(url(org, designation="data-ai-azure")).content.decode()
    cards = body[body.index('data-testid="whatif-results"') :]
    assert cards.index('data-testid="whatif-data-ai-azure"') < cards.index(
        'data-testid="whatif-security"'
    )


def test_add_a_person_button_adds_a_row_without_javascript(admin_client, org, security_66):
    body = admin_client.post(url(org), person_post(add_person="1")).content.decode()
    assert body.count('data-testid="person-row"') == 2


def test_a_member_sees_the_page_read_only_and_may_not_post(member_client, org, security_66):
    page = member_client.get(url(org))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="whatif-readonly"' in body and 'data-testid="whatif-form"' not in body
    before = row_counts()
    assert member_client.post(url(org), person_post()).status_code == 403
    assert row_counts() == before


def test_another_organizations_member_gets_404_and_nothing_is_written(
    client, org, other_member, security_66
):
    client.force_login(other_member)  # an admin of the other organization
    before = row_counts()
    assert client.get(url(org)).status_code == 404
    assert client.post(url(org), person_post()).status_code == 404
    assert row_counts() == before


def test_query_ceiling(admin_client, org, security_66, django_assert_max_num_queries):
    admin_client.get(url(org))  # warm the rule-set cache and the session
    with django_assert_max_num_queries(40):
        admin_client.post(url(org), person_post(count=5))


def test_the_transaction_is_rolled_back_on_postgresql_too(org, security_66):
    """Runs on whichever database the suite uses; the savepoint is the same code on both."""
    before = row_counts()
    whatif_project(
        organization=org,
        scenario=Scenario(people=(HypotheticalPerson(certifications=("AZ-500",), count=2),)),
        as_of=AS_OF,
    )
    assert row_counts() == before
    assert not connection.in_atomic_block or connection.vendor in {"sqlite", "postgresql"}


def test_the_hypothetical_customers_are_capped(admin_client, org, security_66):
    data = person_post(
        **{
            "customers-TOTAL_FORMS": "2",
            "customers-0-count": "300",
            "customers-0-paid_seats": "40",
            "customers-1-platform": "azure",
            "customers-1-association_type": "PAL",
            "customers-1-count": "300",
            "customers-1-acr_usd": "100",
        }
    )
    body = admin_client.post(url(org), data, HTTP_HX_REQUEST="true").content.decode()
    assert "At most 500 hypothetical customers in all." in body
    assert projected_total(body, "security") == "66.6"


# --- today's scores, cached --------------------------------------------------------------------


@pytest.fixture
def scored(org, security_66):
    """The organization's scores computed: the latest computation keys today's what-if."""
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)


@pytest.fixture
def measured(monkeypatch):
    """The organizations of every measures statement the what-if runs, call by call."""
    from scoring import whatif

    calls = []
    real = whatif.compute_measures

    def spy(**kwargs):
        calls.append(list(kwargs["organization_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(whatif, "compute_measures", spy)
    return calls


def security(result):
    return next(p for p in result.projections if p.rule_set.designation_code == "security")


def test_the_second_page_view_reads_todays_scores_from_the_cache(
    admin_client, org, scored, measured, django_assert_max_num_queries
):
    first = admin_client.get(url(org)).content.decode()
    assert measured == [[org.pk]]
    with CaptureQueriesContext(connection) as uncached:
        cache.clear()
        admin_client.get(url(org))
    assert measured == [[org.pk], [org.pk]]
    with django_assert_max_num_queries(10) as cached:
        second = admin_client.get(url(org)).content.decode()
    assert len(cached) < len(uncached)
    assert measured == [[org.pk], [org.pk]]  # not measured again
    for code in ("security", "modern-work", "infrastructure-azure"):
        assert card(second, code) == card(first, code)  # the same scores and shortest paths
    assert projected_total(second, "security") == "66.6"
    assert 'data-testid="shortest-path"' in card(second, "security")


def test_an_update_measures_the_scenarios_twin_alone(admin_client, org, scored, measured):
    admin_client.get(url(org))
    body = admin_client.post(url(org), person_post(), HTTP_HX_REQUEST="true").content.decode()
    assert measured[0] == [org.pk]
    assert len(measured) == 2 and len(measured[1]) == 1 and measured[1] != [org.pk]
    assert projected_total(body, "security") == "73.3"
    assert "Today 66.6 (+6.7)" in card(body, "security")


def test_todays_scores_cache_round_trips_through_pickle(org, scored):
    from scoring.selectors import rule_sets_in_force_stamped
    from scoring.whatif import _current_scores

    rule_sets = rule_sets_in_force_stamped(as_of=AS_OF)[1]
    current = _current_scores(org, AS_OF, rule_sets)
    again = pickle.loads(pickle.dumps(current))
    assert again == current
    metric = again.results["security"].metrics[0]
    assert isinstance(metric.sources, MappingProxyType)  # still read-only


def run_on_commit_callbacks():
    """What a commit would run now. The service batches a transaction's recompute requests into
    one callback, which the fixtures' audited writes registered already (so a capture context
    opened later would see none)."""
    callbacks, connection.run_on_commit = connection.run_on_commit, []
    assert callbacks, "no recompute waits for the commit"
    for _, callback, *_ in callbacks:
        callback()


def test_a_recompute_after_new_certifications_gives_fresh_current_scores(
    admin_client, org, scored, measured
):
    assert projected_total(admin_client.get(url(org)).content.decode(), "security") == "66.6"
    later = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 9, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        # A fifth person with Security's certifications; the saves queue the recompute that
        # every change of the data triggers, run as it would be after the commit.
        person = PersonFactory(organization=org)
        for code in SECURITY_CERTS.split(", "):
            HeldCertificationFactory(
                person=person, certification=Certification.objects.get(code=code)
            )
        run_on_commit_callbacks()
        snapshot = ScoreSnapshot.objects.for_org(org).get(designation__code="security", as_of=AS_OF)
        assert snapshot.computed_at == later  # recomputed
        body = admin_client.get(url(org)).content.decode()
    assert measured == [[org.pk], [org.pk]]
    assert projected_total(body, "security") == "73.3"


def test_data_changed_without_a_recompute_keeps_the_cached_scores(admin_client, org, scored):
    """What the key promises, and no more: the data alone does not move it, a recompute does."""
    admin_client.get(url(org))
    Person.objects.for_org(org).update(active=False)  # no history, no recompute
    assert projected_total(admin_client.get(url(org)).content.decode(), "security") == "66.6"


def test_a_rule_set_edit_gives_fresh_current_scores(org, scored, measured):
    before = security(whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF))
    assert measured == [[org.pk]]
    whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF)
    assert measured == [[org.pk]]
    rule_set = RuleSet.objects.get(designation__code="security")
    rule_set.qualifying_total = 60
    rule_set.min_metric_points = 0
    rule_set.save()  # as the admin does: audited, a history row
    after = security(whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF))
    assert measured == [[org.pk], [org.pk]]
    assert not before.current.qualified and before.current.total == after.current.total
    assert after.current.qualified and after.projected.qualified
    assert after.path is not None and after.path.size == 0


def test_a_metric_rule_edit_gives_fresh_current_measures(org, scored, measured):
    before = security(whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF))
    source = MetricSource.objects.get(
        metric__rule_set__designation__code="security",
        metric__code="deployments",
        platform="azure",
    )
    source.usage_threshold = 20000  # the six Azure deployments' $12,500 no longer count
    source.save()
    after = security(whatif_project(organization=org, scenario=Scenario(), as_of=AS_OF))
    assert measured == [[org.pk], [org.pk]]

    def deployments(projection):
        return {m.code: m.points for m in projection.current.metrics}["deployments"]

    assert deployments(before) == 20 and deployments(after) == 0


def test_the_key_follows_the_frozen_tracks_and_needs_scores(org, security_66):
    from scoring.selectors import rule_sets_in_force_stamped
    from scoring.whatif import whatif_current_key

    stamp, rule_sets = rule_sets_in_force_stamped(as_of=AS_OF)

    def key():
        return whatif_current_key(
            organization=org, as_of=AS_OF, rule_sets=rule_sets, rules_stamp=stamp
        )

    assert key() is None  # no scores yet: nothing says when the data changed, nothing cached
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    scored_key = key()
    assert scored_key is not None and scored_key.startswith(f"scoring:whatif:current:{org.pk}:")
    TrackFreeze.objects.create(
        organization=org,
        designation=Designation.objects.get(code="security"),
        track="",
        starts_on=date(2024, 1, 1),
        ends_on=date(2024, 12, 31),
    )
    assert key() != scored_key


def test_the_path_summary_counts_one_addition_in_the_singular():
    from fractions import Fraction as F

    from django.utils import translation

    from scoring.engine.paths import Addition, AdditionKind, ShortestPath
    from scoring.whatif_presenters import path_summary

    kind = AdditionKind.CUSTOMER
    one = Addition("deployments", "deployments", "people", kind, F(1), "count", "")
    path = ShortestPath(designation="security", track="", additions=(one,), total=F(70))
    with translation.override("en"):
        assert path_summary(path).startswith("1 addition: ")
    with translation.override("ja"):
        assert path_summary(path).startswith("追加 1 件: ")
