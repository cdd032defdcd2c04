"""The shipped published versions (migration 0008): valid, sourced, and picked by the as-of date."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from scoring.labels import SHIPPED_LABELS, SINGULAR_LABELS
from scoring.models import MetricRule, MetricSource, RuleSet
from scoring.rulesets import rule_set_validate
from scoring.selectors import rule_sets_in_force

pytestmark = pytest.mark.django_db


def test_every_shipped_rule_set_is_valid_with_every_part():
    for rule_set in RuleSet.objects.all():
        rule_set_validate(rule_set=rule_set)  # raises, listing every problem


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2023, 3, 31), {"security": "2022", "modern-work": "2022", "data-ai-azure": "2022"}),
        (date(2023, 10, 31), {"security": "2023", "modern-work": "2023", "data-ai-azure": "2023"}),
        (date(2024, 1, 31), {"security": "2023-12", "business-applications": "2023-12",
                             "modern-work": "2023"}),
        (date(2026, 5, 31), {"security": "2026", "modern-work": "2026", "data-ai-azure": "2026"}),
    ],
)  # fmt: skip
def test_the_as_of_date_picks_the_version(day, expected):
    in_force = {rs.designation_code: rs.model.release for rs in rule_sets_in_force(as_of=day)}
    assert {code: in_force[code] for code in expected} == expected


def test_versions_record_their_source():
    v2023 = RuleSet.objects.get(designation__code="modern-work", release="2023")
    assert (v2023.published_on, v2023.effective_from) == (date(2023, 6, 13), date(2023, 6, 13))
    assert v2023.source_url.startswith("https://learn.microsoft.com/")
    seed = RuleSet.objects.get(designation__code="modern-work", release="2022")
    assert set(seed.metrics.values_list("provenance", flat=True)) == {"default"}
    security_seed = RuleSet.objects.get(designation__code="security", release="2022")
    assert set(security_seed.metrics.values_list("provenance", flat=True)) == {
        MetricRule.Provenance.PUBLISHED
    }


def test_data_ai_2023_has_no_advanced_metric_and_forty_skilling_points():
    rules = next(
        rs.rules
        for rs in rule_sets_in_force(as_of=date(2023, 10, 31))
        if rs.designation_code == "data-ai-azure"
    )
    assert [(m.code, m.max_points) for m in rules.metrics] == [
        ("net_customer_adds", 30),
        ("intermediate_certifications", 40),
        ("usage_growth", 20),
        ("deployments", 10),
    ]
    gates = [step for step in rules.metrics[1].steps if not step.scoring]
    assert [(g.requirement, g.min_people) for g in gates] == [
        ("holding AZ-305", 2),
        ("holding AZ-104", 2),
    ]


def _person_with(org, *codes):
    from portal.models import Certification
    from tests.factories import HeldCertificationFactory, PersonFactory

    person = PersonFactory(organization=org)
    for code in codes:
        HeldCertificationFactory(
            person=person,
            certification=Certification.objects.get(code=code),
            earned_on=date(2022, 1, 1),
        )


def _export(org, day):
    from scoring.selectors import score_export_rows
    from scoring.services import scores_recompute

    scores_recompute(organization_ids=[org.pk], as_of=day)
    rows = score_export_rows(organization_ids=[org.pk], as_of=day)
    return {row["designation"]: row for row in rows}


def test_the_same_data_scores_under_2022_then_2023(org):
    """Two AZ-104 holders and three AZ-700 holders: in 2022 the AZ-104 holders score 20
    (target 2); from 2023-06-13 they are the gate and the AZ-700 holders score 4 each."""
    _person_with(org, "AZ-104")
    _person_with(org, "AZ-104", "AZ-700")
    _person_with(org, "AZ-700")
    _person_with(org, "AZ-700")

    before, after = _export(org, date(2023, 3, 31)), _export(org, date(2023, 10, 31))

    def intermediate(row):
        return next(m for m in row["metrics"] if m["code"] == "intermediate_certifications")

    assert before["infrastructure-azure"]["rule_version"] == "2022"
    assert intermediate(before["infrastructure-azure"])["points"] == 20
    assert after["infrastructure-azure"]["rule_version"] == "2023"
    assert intermediate(after["infrastructure-azure"])["points"] == 12
    assert (
        intermediate(after["infrastructure-azure"])["gap"]
        == "2 more people holding one of AZ-600/AZ-700/AZ-800/AZ-801"
    )
    assert (before["modern-work"]["track"], after["modern-work"]["track"]) == ("", "enterprise")


def test_a_missing_gate_reads_in_the_versions_own_units(org):
    _person_with(org, "AZ-104")
    _person_with(org, "AZ-700")

    row = _export(org, date(2023, 10, 31))["infrastructure-azure"]

    metric = next(m for m in row["metrics"] if m["code"] == "intermediate_certifications")
    assert metric["points"] == 0
    assert metric["gap"] == "1 more person holding AZ-104 unlock this metric"


def test_a_rule_set_that_cannot_be_evaluated_is_refused_with_every_problem_listed():
    """A copy of Infrastructure 2026 broken three ways — its AZ-104 gate names a certification
    the program does not know any more (retired, no counts-until date), its AZ-305 gate names
    none, and its SMB track lost its classification rule — is refused before it takes effect,
    every problem named."""
    from portal.models import Certification
    from scoring.models import CertificationGroup, Track
    from scoring.rulesets import rule_set_check_save, rule_set_new_version

    shipped = RuleSet.objects.get(designation__code="infrastructure-azure", release="2026")
    copy = rule_set_new_version(rule_set=shipped, effective_from=date(2027, 1, 1))
    unknown = Certification.objects.create(
        code="AZ-999", name="Withdrawn exam", level="intermediate", active=False
    )
    intermediate = copy.metrics.get(track__code="enterprise", code="intermediate_certifications")
    first_gate, *_ = intermediate.steps.filter(scoring=False).order_by("position")
    CertificationGroup.objects.get(step=first_gate).certifications.set([unknown])
    advanced = copy.metrics.get(track__code="enterprise", code="advanced_certifications")
    CertificationGroup.objects.filter(step__in=advanced.steps.filter(scoring=False)).delete()
    Track.objects.filter(rule_set=copy).update(classify_rule="", classify_segment="")

    check = rule_set_check_save(rule_set=copy, on=date(2027, 1, 1))

    assert not check.accepted
    problems = "\n".join(check.problems)
    assert (
        "metric 'enterprise/intermediate_certifications': AZ-999 is retired in the catalog and "
        "has no counts-until date in this rule set, so it can never count"
    ) in problems
    assert "metric 'enterprise/advanced_certifications': step 1 names no certification" in problems
    assert "tracks ['smb', 'enterprise'] have no classification rule" in problems
    assert "no track has a classification rule" in problems
    assert check.message.startswith("Not saved:")
    # A future draft with the same problems is kept, with every problem in the warning.
    draft = rule_set_check_save(rule_set=copy, on=date(2026, 12, 31))
    assert draft.accepted
    assert draft.problems == check.problems


def test_certifications_without_an_exam_code_count_in_the_2026_steps(org):
    """Data & AI 2026 names certifications whose exam codes are not published: they are in the
    catalog under credential codes and score in the step after the AZ-104 and AZ-305 gates."""
    for _ in range(2):
        _person_with(org, "AZ-104", "AZ-305")
    _person_with(org, "MLOPS-ENGINEER")
    _person_with(org, "AZURE-DATABRICKS-DATA-ENGINEER", "SQL-AI-DEVELOPER")  # one person, once

    row = _export(org, date(2026, 11, 30))["data-ai-azure"]

    metric = next(m for m in row["metrics"] if m["code"] == "intermediate_certifications")
    assert (row["rule_version"], row["track"], metric["points"]) == ("2026", "enterprise", 8)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("AZ-500", True),
        ("GITHUB-AGENTIC-AI-DEVELOPER", True),
        ("AZ500", False),
        ("github-agentic-ai", False),
        ("AZ-500 ", False),
    ],
)
def test_a_certification_code_is_an_exam_or_a_credential_code(code, valid):
    from django.core.exceptions import ValidationError

    from portal.models import Certification

    certification = Certification(code=code, name="x", level="intermediate")
    try:
        certification.full_clean(validate_unique=False)
    except ValidationError as error:
        assert not valid and "code" in error.message_dict
    else:
        assert valid


def test_a_tracks_own_certification_groups_give_its_gap_once(client, org, member):
    """Business Applications 2026 has the same skilling metrics on both tracks, each with its
    own groups: the card's gap names the counting track's groups, not both tracks' joined."""
    from django.urls import reverse

    from scoring.services import scores_recompute

    scores_recompute(organization_ids=[org.pk], as_of=date(2026, 11, 30))
    client.force_login(member)

    body = client.get(
        reverse("org_designation", args=[org.slug, "business-applications"]),
        {"as_of": "2026-11-30"},
    ).content.decode()

    gap = next(line for line in body.splitlines() if "more individuals holding" in line)
    assert gap.count("one of") == 1, gap


def test_every_label_of_every_shipped_version_is_marked_and_translated(shipped_catalog):
    """The published versions' labels read in Japanese like the seed's (dashboard, what-if)."""
    labels = set(MetricRule.objects.values_list("unit_label", flat=True))
    labels |= set(MetricSource.objects.values_list("label", flat=True))
    labels.discard("")
    assert "distinct Azure services" in labels  # the published versions are there
    assert labels - set(SHIPPED_LABELS) == set()
    with translation.override("ja"):
        untranslated = {label for label in labels if translation.gettext(label) == label}
        singulars = {s for s in SINGULAR_LABELS.values() if translation.gettext(s) == s}
    assert untranslated == set()
    assert singulars == set()


def test_requirement_texts_leave_out_certifications_past_their_counts_until_date():
    """Security 2026 as of the end of 2026: SC-400 no longer counts, so no gap names it (the
    dashboard read "holding one of SC-100/SC-300/SC-400@retired/SC-401")."""
    in_force = rule_sets_in_force(as_of=date(2026, 12, 4))
    (security,) = [rs for rs in in_force if rs.designation_code == "security"]
    texts = [metric.requirement for metric in security.rules.metrics] + [
        step.requirement for metric in security.rules.metrics for step in metric.steps
    ]
    certification_texts = [text for text in texts if "SC-401" in text]
    assert certification_texts  # the group is still there, with its current certifications
    assert not [text for text in texts if "SC-400" in text or "@" in text]
