"""The scores dashboard: totals, badges, localized gaps, the date picker, recompute, queries."""

import importlib
import re
from datetime import date

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from scoring import services
from scoring.labels import SHIPPED_LABELS, SINGULAR_LABELS
from scoring.models import CertificationGroup, Designation, RuleSet, ScoreSnapshot
from scoring.presenters import amount_text, gap_text, points_text
from tests.factories import MembershipFactory
from tests.scoring.test_services import security_partner

AS_OF = date(2024, 6, 30)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules_2022_only")]


def scores_url(org):
    return reverse("org_scores", args=[org.slug])


def card(body: str, code: str) -> str:
    """The HTML of one designation's card."""
    start = body.index(f'data-testid="score-{code}"')
    end = body.find("</section>", start)
    return body[start:end]


@pytest.fixture
def security_66(org):
    """Given Security at 66.7: 6 adds, 4 individuals, +1,000 MPU, 6 deployments."""
    # 6 Azure deployments are also 6 Azure adds (12 points); 4 individuals = 26.7;
    # +1,000 MPU = 8; 6 deployments = 20.
    security_partner(org, adds=0, people=4, mpu_growth=1000, deployments=6)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)


# --- numbers as shown ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "threshold", "shown"),
    [
        (40 * 4 / 6, None, "26.7"),
        (20 / 6, None, "3.3"),
        (100 / 6, None, "16.7"),
        (69.992, 70, "69.9"),  # rounding must not reach a threshold the total misses
        (0.96, 1, "0.9"),
        (70, 70, "70.0"),
        (0, None, "0.0"),
    ],
)
def test_points_round_to_one_decimal_but_never_up_to_a_missed_threshold(value, threshold, shown):
    from decimal import Decimal

    assert points_text(value, threshold=None if threshold is None else Decimal(threshold)) == shown


@pytest.mark.parametrize(
    ("amount", "unit", "shown"),
    [
        (8299.5, "usd", "$8,300"),
        (2500, "users", "2,500"),
        (4, "count", "4"),
        (1e-9 + 3, "count", "3"),
    ],
)
def test_amounts_round_up_with_thousands_separators(amount, unit, shown):
    assert amount_text(amount, unit) == shown


def test_an_unknown_staff_label_falls_back_to_english():
    metric = {"gap_parts": [{"amount": 3, "label": "widgets", "unit": "count"}]}
    with translation.override("ja"):
        assert gap_text(metric) == "あと 3 widgets"
    with translation.override("en"):
        assert gap_text(metric) == "3 more widgets"


def test_one_more_uses_the_singular_label():
    part = {"amount": 1, "label": "deployments", "label_one": "deployment", "unit": "count"}
    with translation.override("en"):
        assert gap_text({"gap_parts": [part]}) == "1 more deployment"
        assert gap_text({"gap_parts": [{**part, "amount": 2}]}) == "2 more deployments"
    with translation.override("ja"):
        assert gap_text({"gap_parts": [part]}) == gap_text(
            {"gap_parts": [{**part, "amount": 1, "label_one": ""}]}
        )


def test_every_shipped_singular_belongs_to_a_shipped_label_and_is_translated():
    assert set(SINGULAR_LABELS) <= set(SHIPPED_LABELS)
    with translation.override("ja"):
        for plural, singular in SINGULAR_LABELS.items():
            assert translation.gettext(singular) == translation.gettext(plural) != singular


def test_every_shipped_label_is_marked_and_translated():
    catalog = importlib.import_module("scoring.migrations.0002_program_catalog")
    labels = {
        text
        for metrics in catalog.RULE_SETS.values()
        for metric in metrics
        for text in [metric["unit_label"], *(source["label"] for source in metric["sources"])]
    }
    assert labels <= set(SHIPPED_LABELS)
    with translation.override("ja"):
        untranslated = {label for label in labels if translation.gettext(label) == label}
    assert untranslated == set()


# --- the page --------------------------------------------------------------------------------


def test_english_totals_badges_and_gaps(client, org, member, security_66):
    client.force_login(member)
    response = client.get(scores_url(org))
    assert response.status_code == 200
    body = response.content.decode()

    assert body.count('class="card score-card') == 6
    security = card(body, "security")
    assert "Security Solutions Partner" in security
    # 66.67 is shown rounded down below the line, so that it and the gap add up to 70.
    assert '<span class="score-total__value" data-testid="total">66.6</span>' in security
    assert "Not yet qualified" in security
    assert "3.4 more points to qualify" in security
    assert "<strong>26.7</strong> / 40" in security
    assert "4 more net customer adds" in security
    assert "2 more individuals holding AZ-500 + MS-500 + one of SC-200/SC-300/SC-400" in security
    assert "+1,500 MPU growth or +$15,000 Security ACR growth" in security
    assert "Full points" in security  # deployments
    assert "Net Customer Adds" in security and "Customer Success" in security
    # The as-of date and the month it reflects.
    assert "As of <strong>2024-06-30</strong>" in body
    assert "<strong>2024-06</strong>" in body
    assert "Microsoft Cloud" not in body


def test_english_gaps_read_exactly_as_the_engine_wrote_them(client, org, member, security_66):
    """The page renders gaps from their parts; in English that is the stored text, word for word."""
    client.force_login(member)
    body = client.get(scores_url(org)).content.decode()
    snapshots = ScoreSnapshot.objects.for_org(org).filter(as_of=AS_OF)
    gaps = [m["gap"] for s in snapshots for m in s.metrics if m["gap"]]
    assert len(gaps) > 15
    for gap in gaps:
        assert gap.replace("&", "&amp;") in body


@pytest.mark.parametrize("how", ["accept-language", "cookie"])
def test_japanese_names_badges_and_gaps(client, org, member, security_66, how):
    client.force_login(member)
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
        response = client.get(scores_url(org))
    else:
        response = client.get(scores_url(org), HTTP_ACCEPT_LANGUAGE="ja")
    body = response.content.decode()

    assert '<html lang="ja">' in body
    assert "パートナーケーパビリティスコア" in body
    security = card(body, "security")
    assert "Security ソリューションパートナー" in security
    assert "認定要件は未達成" in security
    assert "新規顧客数" in security and "中級の認定資格" in security
    assert "使用量の伸び" in security and "ソリューションの導入数" in security
    assert "あと 4 件の新規顧客" in security
    assert "あと 2 名（保有資格: AZ-500 + MS-500 + SC-200/SC-300/SC-400 のいずれか）" in security
    assert "MPU の伸び +1,500 または Security ACR の伸び +$15,000" in security
    assert "満点" in security
    assert "more net customer adds" not in body


def test_qualified_badge_and_full_points(client, org, member):
    security_partner(org)
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)
    client.force_login(member)
    body = client.get(scores_url(org)).content.decode()
    security = card(body, "security")
    assert 'data-testid="qualified"' in security
    assert '<span class="score-total__value" data-testid="total">100.0</span>' in security
    assert security.count("Full points") == 4
    assert "1 of 6 designations qualifies" in body
    japanese = client.get(scores_url(org), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "認定要件を達成" in card(japanese, "security")


def test_the_microsoft_cloud_badge_when_all_six_qualify(client, org, member):
    for designation in Designation.objects.all():
        ScoreSnapshot.objects.create(
            organization=org,
            designation=designation,
            rule_set=RuleSet.objects.filter(designation=designation).first(),
            as_of=AS_OF,
            total=90.0,
            qualified=True,
            metrics=[],
        )
    client.force_login(member)
    body = client.get(scores_url(org)).content.decode()
    assert body.count('data-testid="qualified"') == 6
    assert 'data-testid="microsoft-cloud"' in body
    assert "Microsoft Cloud solutions partner badge" in body


def test_no_snapshot_yet(client, org, admin_member):
    client.force_login(admin_member)
    body = client.get(scores_url(org)).content.decode()
    assert 'data-testid="scores-empty"' in body
    assert "No scores yet" in body
    assert 'data-testid="recompute"' in body
    assert 'class="card score-card' not in body


def test_members_see_no_recompute_button(client, org, member):
    client.force_login(member)
    body = client.get(scores_url(org)).content.decode()
    assert "No scores yet" in body
    assert 'data-testid="recompute"' not in body


# --- the date picker -------------------------------------------------------------------------


@pytest.fixture
def two_dates(org):
    security_partner(org, deployments=0)
    services.scores_recompute(organization_ids=[org.pk], as_of=date(2024, 5, 31))
    services.scores_recompute(organization_ids=[org.pk], as_of=AS_OF)


def _shown_date(body: str) -> str:
    return re.search(r"As of <strong>(\d{4}-\d{2}-\d{2})</strong>", body).group(1)


def test_the_picker_lists_the_dates_with_scores_latest_first(client, org, member, two_dates):
    client.force_login(member)
    body = client.get(scores_url(org)).content.decode()
    options = re.findall(r'<option value="([0-9-]+)"', body)
    assert options == ["2024-06-30", "2024-05-31"]
    assert _shown_date(body) == "2024-06-30"
    assert '<option value="2024-06-30" selected>' in body


def test_a_good_date_shows_that_date(client, org, member, two_dates):
    client.force_login(member)
    body = client.get(scores_url(org), {"as_of": "2024-05-31"}).content.decode()
    assert _shown_date(body) == "2024-05-31"
    assert "<strong>2024-05</strong>" in body  # May has ended on May 31
    assert '<option value="2024-05-31" selected>' in body
    assert 'class="message' not in body


def test_a_date_between_shows_the_latest_scores_before_it(client, org, member, two_dates):
    client.force_login(member)
    body = client.get(scores_url(org), {"as_of": "2024-06-15"}).content.decode()
    assert _shown_date(body) == "2024-05-31"
    assert "No scores were computed on 2024-06-15" in body


@pytest.mark.parametrize("value", ["2024-13-45", "yesterday", "20240531", "2024-5-31"])
def test_a_bad_date_says_so_and_shows_the_latest(client, org, member, two_dates, value):
    client.force_login(member)
    response = client.get(scores_url(org), {"as_of": value})
    assert response.status_code == 200
    body = response.content.decode()
    assert "is not a date (YYYY-MM-DD)" in body
    assert _shown_date(body) == "2024-06-30"


def test_a_date_before_any_score_shows_the_latest(client, org, member, two_dates):
    client.force_login(member)
    body = client.get(scores_url(org), {"as_of": "2020-01-01"}).content.decode()
    assert "There are no scores as of 2020-01-01 or before" in body
    assert _shown_date(body) == "2024-06-30"


# --- recompute now ---------------------------------------------------------------------------


def recompute_url(org):
    return reverse("org_scores_recompute", args=[org.slug])


def test_an_admin_recomputes_as_of_today(client, org, admin_member):
    security_partner(org, deployments=0)
    client.force_login(admin_member)
    response = client.post(recompute_url(org), follow=True)
    today = timezone.localdate()
    assert response.redirect_chain == [(scores_url(org), 302)]
    assert ScoreSnapshot.objects.for_org(org).filter(as_of=today).count() == 6
    body = response.content.decode()
    assert f"Scores recomputed as of {today.isoformat()}." in body
    assert _shown_date(body) == today.isoformat()


def test_a_member_may_not_recompute(client, org, member):
    client.force_login(member)
    assert client.post(recompute_url(org)).status_code == 403
    assert not ScoreSnapshot.objects.for_org(org).exists()


def test_a_non_member_gets_404(client, org, other_org, other_member):
    client.force_login(other_member)
    assert client.post(recompute_url(org)).status_code == 404
    assert client.get(scores_url(org)).status_code == 404
    assert not ScoreSnapshot.objects.unscoped().exists()


def test_recompute_is_post_only(client, org, admin_member):
    client.force_login(admin_member)
    assert client.get(recompute_url(org)).status_code == 405


def test_another_organizations_scores_never_show(client, org, other_org, member, security_66):
    MembershipFactory(organization=other_org, user=member)
    client.force_login(member)
    body = client.get(reverse("org_scores", args=[other_org.slug])).content.decode()
    assert "No scores yet" in body
    assert "66.6" not in body


# --- organization home and queries -----------------------------------------------------------


def test_the_home_shows_a_summary_row_per_designation(client, org, member, security_66):
    client.force_login(member)
    body = client.get(reverse("org_home", args=[org.slug])).content.decode()
    summary = body[body.index('data-testid="score-summary"') :]
    assert summary.count('class="score-summary__item"') == 6
    assert f'href="{scores_url(org)}#designation-security"' in summary
    assert "66.6" in summary
    assert f'href="{scores_url(org)}"' in body  # the Scores tab


def test_query_ceiling_with_six_snapshots(client, org, admin_member, security_66,
                                          django_assert_max_num_queries):  # fmt: skip
    client.force_login(admin_member)
    # session, user, membership+org, dates, designations, snapshots, certification groups,
    # the switcher
    with django_assert_max_num_queries(10):
        response = client.get(scores_url(org))
    assert response.content.decode().count('class="card score-card') == 6


def test_a_retired_certification_is_no_way_to_get_there():
    """Past its counts-until date a certification is marked retired: the texts leave it out."""
    from scoring.presenters import requirement_text
    from scoring.selectors import RETIRED

    any_of, all_of = CertificationGroup.Mode.ANY, CertificationGroup.Mode.ALL
    groups = [(all_of, ["AZ-500"]), (any_of, ["SC-400" + RETIRED, "SC-401", "SC-100"])]
    assert requirement_text(groups) == "AZ-500 + one of SC-100/SC-401"
    assert requirement_text([(all_of, ["AZ-500"]), (any_of, ["SC-400" + RETIRED])]) == "AZ-500"


def test_gated_step_and_baseline_gaps_read_in_japanese():
    """The engine's step people and baseline gaps carry their parts (the certifications, the
    baseline mark), so the dashboard words them in the reader's language, not the engine's."""
    from scoring import engine
    from scoring.engine import StepRule
    from scoring.services import _metric_breakdown
    from tests.scoring.test_engine_published import skilling

    any_of = CertificationGroup.Mode.ANY
    gate = StepRule(key="g", min_people=2, scoring=False, requirement="holding AZ-104",
                    groups=((any_of, ("AZ-104",)),))  # fmt: skip
    scorer = StepRule(key="s", min_people=0, scoring=True, points_each=5)
    metric = skilling(20, [gate, scorer])
    result = engine.score_metric(metric, {"g": 0, "s": 1}, min_metric_points=0)
    assert result.gap_text == "2 more people holding AZ-104 unlock this metric"
    breakdown = _metric_breakdown(result)
    assert breakdown["gap_parts"][0]["certifications"] == [[any_of, ["AZ-104"]]]
    with translation.override("ja"):
        text = gap_text(breakdown)
    assert text == "あと 2 名（保有資格: AZ-104） でこの指標のポイントが有効になります"
    baseline = {"amount": 25000, "label": "consumption value growth", "unit": "count",
                "baseline": True}  # fmt: skip
    with translation.override("ja"):
        text = gap_text({"gap_parts": [baseline]})
    assert text == "あと 25,000 消費価値の伸びのベースライン"
