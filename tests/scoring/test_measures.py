"""Measures computed in the database, rule by rule (program.md §3), as of 2024-06-30.

The current month is 2024-06, "12 months ago" is 2023-06 and the trailing 12 months are
2023-07..2024-06. These run on whichever database the suite runs on (CI: SQLite and PostgreSQL).
"""

from datetime import date
from decimal import Decimal

import pytest

from scoring.measures import compute_measures, current_month
from scoring.selectors import rule_sets_in_force
from tests.factories import HeldCertificationFactory, OrganizationFactory, PersonFactory
from tests.scoring.telemetry import associate, customer, monthly, usage

AS_OF = date(2024, 6, 30)
SECURITY_M365 = "MDE"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_2022_only")]


def security(org, as_of=AS_OF):
    rule_sets = rule_sets_in_force(as_of=as_of)
    return compute_measures(organization_ids=[org.pk], as_of=as_of, rule_sets=rule_sets)[org.pk][
        "security"
    ]


def designation(org, code, as_of=AS_OF):
    rule_sets = rule_sets_in_force(as_of=as_of)
    return compute_measures(organization_ids=[org.pk], as_of=as_of, rule_sets=rule_sets)[org.pk][
        code
    ]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2024, 6, 30), date(2024, 6, 1)),
        (date(2024, 7, 1), date(2024, 6, 1)),
        (date(2024, 7, 30), date(2024, 6, 1)),
        (date(2024, 2, 29), date(2024, 2, 1)),
        (date(2024, 1, 15), date(2023, 12, 1)),
    ],
)
def test_current_month_is_the_last_month_ended(as_of, expected):
    assert current_month(as_of) == expected


# --- Net Customer Adds, M365 (CPOR, paid seats) -------------------------------------------


@pytest.mark.parametrize(
    ("seats", "expected"),
    [
        pytest.param(monthly("2024-01", "2024-06", 30), 1, id="0 to 30 seats is an add"),
        pytest.param(
            {"2023-12": 0, **monthly("2024-01", "2024-06", 25)}, 1, id="0 to exactly 25 is an add"
        ),
        pytest.param({"2023-12": 0, "2024-01": 24}, 0, id="0 to 24 is not an add"),
        pytest.param(
            {"2023-12": 10, **monthly("2024-01", "2024-06", 30)}, 0, id="10 to 30 is not an add"
        ),
        pytest.param({**monthly("2023-01", "2024-02", 30)}, -1, id="30 to no row is a loss"),
        pytest.param(
            {**monthly("2023-01", "2024-02", 30), "2024-03": 0}, -1, id="30 to 0 is a loss"
        ),
        pytest.param({**monthly("2023-01", "2024-02", 30), "2024-03": 5}, 0, id="30 to 5 no loss"),
        pytest.param({"2023-07": 30, "2023-08": 0}, 0, id="add then loss nets to zero"),
        pytest.param({"2024-01": 30}, 0, id="one month only: add, then a month with no row"),
        pytest.param({"2023-06": 30}, -1, id="add before the window, loss inside it"),
        pytest.param({"2023-05": 30, "2023-06": 30}, -1, id="loss in the first trailing month"),
        pytest.param(
            {"2023-06": 0, **monthly("2023-07", "2024-06", 40)}, 1, id="add in the first month"
        ),
        pytest.param({"2024-07": 40}, 0, id="after the current month: not yet"),
        pytest.param(monthly("2023-01", "2024-06", 50), 0, id="steady customer"),
    ],
)
def test_m365_net_customer_adds_events(org, seats, expected):
    tenant = customer("m365")
    associate(org, tenant, "CPOR")
    usage(tenant, "paid_seats", seats)
    assert security(org)["net_customer_adds"]["m365"] == expected


def test_m365_adds_sum_over_tenants_and_ignore_other_attribution(org, other_org):
    for _ in range(3):
        tenant = customer("m365")
        associate(org, tenant, "CPOR")
        usage(tenant, "paid_seats", monthly("2024-02", "2024-06", 30))
    pal_only = customer("m365")
    associate(org, pal_only, "DPOR")  # not CPOR: does not count for Security
    usage(pal_only, "paid_seats", monthly("2024-02", "2024-06", 30))
    elsewhere = customer("m365")
    associate(other_org, elsewhere, "CPOR")
    usage(elsewhere, "paid_seats", monthly("2024-02", "2024-06", 30))
    assert security(org)["net_customer_adds"]["m365"] == 3
    assert security(other_org)["net_customer_adds"]["m365"] == 1


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2020-01", None, 1, id="open association"),
        pytest.param("2020-01", "2023-05", 0, id="ended before the window"),
        pytest.param("2024-05", None, 1, id="joins the partner with ≥ 25 seats: add"),
        pytest.param("2024-02", "2024-02", 0, id="ends after the add month: add, then loss"),
    ],
)
def test_association_window_limits_what_counts(org, start, end, expected):
    tenant = customer("m365")
    associate(org, tenant, "CPOR", start=start, end=end)
    usage(tenant, "paid_seats", {"2024-01": 0, **monthly("2024-02", "2024-06", 30)})
    assert security(org)["net_customer_adds"]["m365"] == expected


# --- Net Customer Adds, Azure (PAL, average monthly Security ACR) -------------------------


@pytest.mark.parametrize(
    ("acr", "expected"),
    [
        pytest.param(monthly("2023-07", "2024-06", 100), 1, id="average exactly 100: add"),
        pytest.param(monthly("2023-07", "2024-06", 99.99), 0, id="average below 100"),
        pytest.param({"2024-06": 1200}, 1, id="one month of 1,200 averages 100"),
        pytest.param(monthly("2022-07", "2024-06", 150), 0, id="qualified both years"),
        pytest.param(monthly("2022-07", "2023-06", 150), -1, id="qualified only a year ago"),
    ],
)
def test_azure_net_customer_adds(org, acr, expected):
    tpid = customer("azure")
    associate(org, tpid, "PAL")
    usage(tpid, "acr_usd", acr, workload="security")
    assert security(org)["net_customer_adds"]["azure"] == expected


def test_azure_acr_of_another_area_does_not_count_for_security(org):
    tpid = customer("azure")
    associate(org, tpid, "PAL")
    usage(tpid, "acr_usd", monthly("2023-07", "2024-06", 5000), workload="infrastructure")
    assert security(org)["net_customer_adds"]["azure"] == 0
    assert designation(org, "infrastructure-azure")["net_customer_adds"]["azure"] == 1


def test_pal_earns_nothing_for_a_partner_in_china(db):
    china = OrganizationFactory(country="CN")
    tpid = customer("azure")
    associate(china, tpid, "PAL")
    usage(tpid, "acr_usd", monthly("2023-07", "2024-06", 5000), workload="security")
    tenant = customer("m365")
    associate(china, tenant, "CPOR")
    usage(tenant, "paid_seats", monthly("2024-01", "2024-06", 30))
    measures = security(china)
    assert measures["net_customer_adds"] == {"m365": 1, "azure": 0}
    assert measures["usage_growth"]["azure"] == 0
    assert measures["deployments"]["azure"] == 0


# --- Deployments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "users", "production", "expected"),
    [
        pytest.param(100, {"2023-06": 15, "2024-02": 16}, True, 1, id="15% then 16%: crossing"),
        pytest.param(100, {"2023-06": 16, "2024-02": 30}, True, 0, id="above a year ago already"),
        pytest.param(100, {"2023-06": 10, "2024-02": 15}, True, 0, id="reaches but never exceeds"),
        pytest.param(24, {"2023-06": 0, "2024-02": 20}, True, 0, id="under 25 paid seats now"),
        pytest.param(100, {"2023-06": 0, "2024-02": 40}, False, 0, id="non-production tenant"),
        pytest.param(100, {"2024-06": 40}, True, 1, id="crossing in the current month"),
    ],
)
def test_m365_deployments_crossing_rule(org, seats, users, production, expected):
    tenant = customer("m365", production=production)
    associate(org, tenant, "CPOR")
    usage(tenant, "paid_seats", monthly("2023-01", "2024-06", seats))
    usage(tenant, "protected_users", users, workload=SECURITY_M365)
    assert security(org)["deployments"]["m365"] == expected


def test_a_tenant_counts_once_however_many_workloads_cross(org):
    tenant = customer("m365")
    associate(org, tenant, "CPOR")
    usage(tenant, "paid_seats", monthly("2023-01", "2024-06", 100))
    for workload in ("MDE", "MDO", "AADP"):
        usage(tenant, "protected_users", {"2023-06": 0, "2024-03": 50}, workload=workload)
    usage(tenant, "protected_users", {"2024-03": 90}, workload="Teams")  # not a Security workload
    assert security(org)["deployments"]["m365"] == 1


@pytest.mark.parametrize(
    ("acr", "expected"),
    [
        pytest.param(monthly("2023-07", "2024-06", 1001), 1, id="12,012 trailing now"),
        pytest.param(monthly("2023-07", "2024-06", 1000), 0, id="exactly 12,000 is not above"),
        pytest.param(monthly("2022-07", "2024-06", 1100), 0, id="above a year ago already"),
        pytest.param({"2023-09": 13000}, 1, id="above once since, then fell back"),
    ],
)
def test_azure_deployments_trailing_acr_crossing(org, acr, expected):
    tpid = customer("azure")
    associate(org, tpid, "PAL")
    usage(tpid, "acr_usd", acr, workload="security")
    assert security(org)["deployments"]["azure"] == expected


# --- Usage growth ------------------------------------------------------------------------


def test_m365_growth_from_twelve_months_ago(org):
    tenant = customer("m365")
    associate(org, tenant, "CPOR")
    usage(tenant, "protected_users", {"2023-06": 100, "2024-06": 400}, workload="MDE")
    usage(tenant, "protected_users", {"2023-06": 50, "2024-06": 20}, workload="MDO")
    assert security(org)["usage_growth"]["m365"] == 270


def test_growth_baseline_is_the_association_month_when_later(org):
    tenant = customer("m365")
    associate(org, tenant, "CPOR", start="2024-01")
    usage(tenant, "protected_users", {"2023-06": 0, "2024-01": 200, "2024-06": 500}, workload="MDE")
    assert security(org)["usage_growth"]["m365"] == 300


def test_azure_growth_counts_non_production_and_can_be_negative(org):
    grows = customer("azure", production=False)
    associate(org, grows, "PAL")
    usage(grows, "acr_usd", {"2023-06": 1000, "2024-06": 9300}, workload="security")
    shrinks = customer("azure")
    associate(org, shrinks, "PAL")
    usage(shrinks, "acr_usd", {"2023-06": 500, "2024-06": 0}, workload="security")
    assert security(org)["usage_growth"]["azure"] == Decimal("7800")


def test_customers_no_longer_associated_leave_the_growth_base(org):
    gone = customer("azure")
    associate(org, gone, "PAL", end="2024-03")
    usage(gone, "acr_usd", {"2023-06": 5000, "2024-06": 0}, workload="security")
    assert security(org)["usage_growth"]["azure"] == 0


# --- Certifications ----------------------------------------------------------------------


def _person_with(org, *codes, earned=date(2024, 1, 1), expires=None, active=True):
    from portal.models import Certification

    person = PersonFactory(organization=org, active=active)
    for code in codes:
        HeldCertificationFactory(
            person=person,
            certification=Certification.objects.get(code=code),
            earned_on=earned,
            expires_on=expires,
        )
    return person


@pytest.mark.parametrize(
    ("codes", "kwargs", "expected"),
    [
        pytest.param(("MS-500", "AZ-500", "SC-200"), {}, 1, id="both plus one of"),
        pytest.param(("MS-500", "AZ-500", "SC-300", "SC-400"), {}, 1, id="two of the one-of"),
        pytest.param(("MS-500", "AZ-500"), {}, 0, id="missing the one-of"),
        pytest.param(("MS-500", "SC-200", "SC-300"), {}, 0, id="missing AZ-500"),
        pytest.param(
            ("MS-500", "AZ-500", "SC-200"), {"expires": date(2024, 6, 30)}, 0, id="expired on day"
        ),
        pytest.param(
            ("MS-500", "AZ-500", "SC-200"), {"expires": date(2024, 7, 1)}, 1, id="expires after"
        ),
        pytest.param(
            ("MS-500", "AZ-500", "SC-200"), {"earned": date(2024, 7, 1)}, 0, id="earned later"
        ),
        pytest.param(
            ("MS-500", "AZ-500", "SC-200"), {"earned": date(2024, 6, 30)}, 1, id="earned on day"
        ),
        pytest.param(("MS-500", "AZ-500", "SC-200"), {"active": False}, 0, id="person inactive"),
    ],
)
def test_security_certification_combination_per_person(org, codes, kwargs, expected):
    _person_with(org, *codes, **kwargs)
    assert security(org)["intermediate_certifications"]["people"] == expected


def test_the_combination_must_be_held_by_one_person(org, other_org):
    _person_with(org, "MS-500", "AZ-500")
    _person_with(org, "SC-200")
    _person_with(other_org, "MS-500", "AZ-500", "SC-200")
    assert security(org)["intermediate_certifications"]["people"] == 0
    assert security(other_org)["intermediate_certifications"]["people"] == 1


def test_data_ai_advanced_needs_az305_and_one_data_certification(org):
    _person_with(org, "AZ-305", "DP-203")
    _person_with(org, "AZ-305")
    _person_with(org, "DP-100")
    measures = designation(org, "data-ai-azure")
    assert measures["advanced_certifications"]["people"] == 1
    assert measures["intermediate_certifications"]["people"] == 2


def test_the_statement_puts_the_planner_settings_back():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL planner settings")
    org = OrganizationFactory()
    tenant = customer("m365")
    associate(org, tenant, "CPOR")
    usage(tenant, "paid_seats", monthly("2024-01", "2024-06", 30))

    def current():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('work_mem')")
            return cursor.fetchone()

    before = current()
    assert security(org)["net_customer_adds"]["m365"] == 1
    assert current() == before
