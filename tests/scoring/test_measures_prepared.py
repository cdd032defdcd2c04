"""The measures statement as a prepared statement of the connection (PostgreSQL).

Prepared once per connection and statement shape, executed with each chunk's parameters, kept
across rollbacks (a what-if is one), the least recently used deallocated past a bound; and the
measures are the same as the statement run plainly.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from scoring import measures
from scoring.measures import compute_measures
from scoring.selectors import rule_sets_in_force
from tests.factories import OrganizationFactory
from tests.scoring.test_services import security_partner

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the statement is prepared on PostgreSQL"
    ),
]

AS_OF = date(2024, 6, 30)


def statements(captured) -> list[str]:
    return [q["sql"].split(" ", 1)[0] for q in captured.captured_queries]


@pytest.fixture
def partners(org):
    other = OrganizationFactory(partner_id="7700001", slug="other-partner")
    security_partner(org, adds=2, people=4, mpu_growth=1000, deployments=6)
    security_partner(other, adds=1, people=2, mpu_growth=0, deployments=3)
    return org, other


def test_prepared_once_and_the_same_measures_as_run_plainly(partners, settings):
    org, other = partners
    rule_sets = rule_sets_in_force(as_of=AS_OF)
    settings.SCORING_PREPARED_STATEMENTS = False
    plain = {
        pk: compute_measures(organization_ids=[pk], as_of=AS_OF, rule_sets=rule_sets)
        for pk in (org.pk, other.pk)
    }
    settings.SCORING_PREPARED_STATEMENTS = True

    with CaptureQueriesContext(connection) as first:
        prepared_org = compute_measures(organization_ids=[org.pk], as_of=AS_OF, rule_sets=rule_sets)
    with CaptureQueriesContext(connection) as second:
        prepared_other = compute_measures(
            organization_ids=[other.pk], as_of=AS_OF, rule_sets=rule_sets
        )

    assert prepared_org == plain[org.pk]
    assert prepared_other == plain[other.pk]
    assert statements(first).count("PREPARE") == 1
    assert "PREPARE" not in statements(second)  # same shape, other parameters
    assert statements(second).count("EXECUTE") == 1


def test_a_prepared_statement_outlives_a_rollback(partners, settings):
    org, _ = partners
    rule_sets = rule_sets_in_force(as_of=AS_OF)
    with transaction.atomic():
        compute_measures(organization_ids=[org.pk], as_of=AS_OF, rule_sets=rule_sets)
        transaction.set_rollback(True)

    with CaptureQueriesContext(connection) as after:
        compute_measures(organization_ids=[org.pk], as_of=AS_OF, rule_sets=rule_sets)

    assert "PREPARE" not in statements(after)
    assert "EXECUTE" in statements(after)


def test_the_least_recently_used_shape_is_deallocated(partners, monkeypatch):
    org, other = partners
    with connection.cursor() as cursor:  # none prepared yet on this connection
        cursor.execute("DEALLOCATE ALL")
    measures._prepared.pop(connection.connection, None)
    monkeypatch.setattr(measures, "PREPARED_STATEMENTS", 1)
    rule_sets = rule_sets_in_force(as_of=AS_OF)
    compute_measures(organization_ids=[org.pk], as_of=AS_OF, rule_sets=rule_sets)

    with CaptureQueriesContext(connection) as two_orgs:  # another shape: two organizations
        compute_measures(organization_ids=[org.pk, other.pk], as_of=AS_OF, rule_sets=rule_sets)

    assert statements(two_orgs).count("DEALLOCATE") == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'scoring%%'")
        assert cursor.fetchone()[0] == 1


def test_catalog_codes_are_literals_of_the_statement(partners, monkeypatch):
    """Only what changes from chunk to chunk is a parameter (organization ids, dates, years,
    thresholds): a list of text parameters would be an array built for every row it is tested
    on in the generic plan. All six 2026 rule sets, every computation kind."""
    org, other = partners
    as_of = date(2026, 11, 30)
    rule_sets = rule_sets_in_force(as_of=as_of)
    assert [rs.model.version_label for rs in rule_sets] == ["2026"] * 6
    captured = []
    monkeypatch.setattr(measures, "_fetch_chunk_statement", lambda sql: captured.append(sql) or [])
    compute_measures(organization_ids=[org.pk, other.pk], as_of=as_of, rule_sets=rule_sets)
    (statement,) = captured
    assert [p for p in statement.params if isinstance(p, str)] == []
    assert {org.pk, other.pk} <= set(statement.params)
    # The series are read from the earliest month their sources read: the whole window for
    # the Azure trailing sums, from the baseline on (12 months ago) for the growth measures.
    assert "series0 AS MATERIALIZED" in statement.text
    assert "series11 AS MATERIALIZED" in statement.text
