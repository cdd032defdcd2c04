"""Scores through the API: current with the breakdown and gaps, ETag / 304, history with date
ranges, recompute queued with a status URL; the program catalog."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.urls import reverse

from scoring import services
from scoring.models import ScoreRecomputeRequest, ScoreSnapshot
from tests.api.conftest import AS_OF, seed_organization


@pytest.fixture
def scored(org):
    seed_organization(org)
    return org


@pytest.mark.django_db
def test_current_scores_match_the_snapshots(read_client, scored):
    response = read_client.get(reverse("api-score-current", args=[scored.partner_id]))
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == AS_OF.isoformat()
    snapshots = {
        s.designation.code: s
        for s in ScoreSnapshot.objects.for_org(scored).select_related("designation")
    }
    assert {score["designation"] for score in body["scores"]} == set(snapshots)
    for score in body["scores"]:
        snapshot = snapshots[score["designation"]]
        assert score["total"] == snapshot.total
        assert score["qualified"] == snapshot.qualified
        assert [m["code"] for m in score["metrics"]] == [m["code"] for m in snapshot.metrics]
        assert [m["gap"] for m in score["metrics"]] == [m["gap"] for m in snapshot.metrics]
        assert score["points_to_qualify"] == max(0.0, score["qualifying_total"] - score["total"])
        assert all("gap_parts" in m and "sources" in m for m in score["metrics"])


@pytest.mark.django_db
def test_etag_gives_304_until_a_recompute(read_client, scored):
    url = reverse("api-score-current", args=[scored.partner_id])
    first = read_client.get(url)
    etag = first["ETag"]
    unchanged = read_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    designation = reverse("api-score-designation", args=[scored.partner_id, "security"])
    assert read_client.get(designation, HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.scores_recompute(organization_ids=[scored.pk], as_of=date(2024, 7, 31))
    changed = read_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["as_of"] == "2024-07-31"


@pytest.mark.django_db
def test_one_designation_and_an_unknown_one(read_client, scored):
    body = read_client.get(
        reverse("api-score-designation", args=[scored.partner_id, "security"])
    ).json()
    assert body["designation"] == "security"
    missing = read_client.get(reverse("api-score-designation", args=[scored.partner_id, "nope"]))
    assert missing.status_code == 404
    assert missing.json()["type"] == "client_error"


@pytest.mark.django_db
def test_no_scores_yet(read_client, org):
    body = read_client.get(reverse("api-score-current", args=[org.partner_id])).json()
    assert body == {"as_of": None, "scores": []}


@pytest.mark.django_db
def test_history_with_date_ranges(read_client, scored):
    services.scores_recompute(organization_ids=[scored.pk], as_of=date(2024, 3, 31))
    url = reverse("api-score-history", args=[scored.partner_id])
    every = read_client.get(url, {"designation": "security"}).json()["results"]
    assert [s["as_of"] for s in every] == ["2024-06-30", "2024-03-31"]
    ranged = read_client.get(
        url, {"designation": "security", "as_of_after": "2024-01-01", "as_of_before": "2024-04-30"}
    ).json()["results"]
    assert [s["as_of"] for s in ranged] == ["2024-03-31"]
    bad = read_client.get(url, {"as_of_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "as_of"


@pytest.mark.django_db
def test_score_reads_have_a_query_ceiling(read_client, scored, django_assert_max_num_queries):
    for day in (date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)):
        services.scores_recompute(organization_ids=[scored.pk], as_of=day)
    with django_assert_max_num_queries(6):
        history = read_client.get(reverse("api-score-history", args=[scored.partner_id]))
    assert len(history.json()["results"]) == 24
    with django_assert_max_num_queries(7):
        read_client.get(reverse("api-score-current", args=[scored.partner_id]))


@pytest.mark.django_db
def test_recompute_is_queued_with_a_status_url(
    write_client, org, django_capture_on_commit_callbacks
):
    seed_organization(org)
    ScoreSnapshot.objects.for_org(org).delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = write_client.post(
            reverse("api-score-recompute", args=[org.partner_id]),
            {"as_of": "2024-06-30"},
            format="json",
        )
    assert len(callbacks) == 1  # the task, queued after commit
    assert response.status_code == 202
    status_url = response["Location"]
    assert response.json()["url"] == status_url
    recompute = ScoreRecomputeRequest.objects.for_org(org).get()
    assert status_url.endswith(
        reverse("api-score-recompute-detail", args=[org.partner_id, recompute.pk])
    )
    # Tasks run in-process in the tests: done by the time we poll (queued in the 202 body).
    assert response.json()["status"] == "queued"
    status = write_client.get(status_url).json()
    assert status["status"] == "done"
    assert status["snapshots_written"] == ScoreSnapshot.objects.for_org(org).count() > 0


@pytest.mark.django_db
def test_recompute_run_is_idempotent(org):
    from scoring import api_services

    recompute = ScoreRecomputeRequest.objects.create(
        organization=org, as_of=AS_OF, requested_by="test"
    )
    api_services.recompute_request_run(request_id=recompute.pk)
    assert api_services.recompute_request_run(request_id=recompute.pk) == 0
    recompute.refresh_from_db()
    assert recompute.status == "done"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "ceiling", "at_least"),
    [
        ("api-catalog-designation-list", 5, 6),
        ("api-catalog-rule-set-list", 9, 6),
        ("api-catalog-workload-list", 4, 10),
        ("api-catalog-certification-list", 3, 10),
    ],
)
def test_the_catalog_is_read_by_every_caller_within_a_query_ceiling(
    read_client,
    platform_client,
    api,
    member,
    name,
    ceiling,
    at_least,
    django_assert_max_num_queries,
):
    api.force_login(member)
    for client in (read_client, platform_client, api):
        with django_assert_max_num_queries(ceiling):
            response = client.get(reverse(name))
        assert response.status_code == 200
        assert len(response.json()["results"]) >= at_least
    assert read_client.post(reverse(name), {}, format="json").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Tokyo"])
def test_the_fast_score_read_answers_what_the_serializers_do(
    read_client, scored, settings, time_zone
):
    """The score read serializes stored rows directly; its body is byte for byte what
    CurrentScoresSerializer and ScoreSerializer make of the snapshots."""
    import json

    from rest_framework.renderers import JSONRenderer

    from scoring import api_selectors
    from scoring.apis import CurrentScoresSerializer, ScoreSerializer

    settings.TIME_ZONE = time_zone
    # A stored breakdown may lack the optional parts, or hold a None.
    snapshot = ScoreSnapshot.objects.for_org(scored).order_by("pk").first()
    snapshot.metrics[0].pop("gap_parts", None)
    snapshot.metrics[0].pop("sources", None)
    snapshot.metrics[-1]["meets_minimum"] = None
    snapshot.save(update_fields=["metrics"])

    scores = api_selectors.score_current(organization=scored)
    expected = CurrentScoresSerializer({"as_of": scores[0].as_of, "scores": scores}).data
    url = reverse("api-score-current", args=[scored.partner_id])
    response = read_client.get(url)
    assert response.content == JSONRenderer().render(expected)
    assert len(json.loads(response.content)["scores"]) == len(scores) > 1
    assert read_client.get(url).content == response.content  # kept under its ETag

    for score in scores:
        url = reverse("api-score-designation", args=[scored.partner_id, score.designation.code])
        assert read_client.get(url).content == JSONRenderer().render(ScoreSerializer(score).data)


@pytest.mark.django_db
def test_the_score_read_takes_three_queries(read_client, scored, django_assert_num_queries):
    url = reverse("api-score-current", args=[scored.partner_id])
    read_client.get(url)  # the key's last use is written at most once a minute
    cache.clear()
    # The key, the ETag's aggregate, the latest snapshots.
    with django_assert_num_queries(3):
        first = read_client.get(url)
    # Then the body is kept under the ETag: the key and the aggregate only.
    with django_assert_num_queries(2):
        assert read_client.get(url).content == first.content


@pytest.mark.django_db
def test_a_kept_score_body_is_not_served_after_a_recompute(read_client, scored):
    url = reverse("api-score-current", args=[scored.partner_id])
    before = read_client.get(url).json()
    snapshot = ScoreSnapshot.objects.for_org(scored).get(
        as_of=AS_OF, designation__code=before["scores"][0]["designation"]
    )
    snapshot.total = 12.5
    snapshot.save()  # as a recompute does: computed_at moves, so does the ETag
    after = read_client.get(url).json()
    assert after["scores"][0]["total"] == 12.5
