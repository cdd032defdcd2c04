"""The page benchmark finds every organization page and times it; the what-if's long select."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from scoring.whatif_forms import LongSelectMultiple


@pytest.mark.django_db
def test_bench_pages_times_every_organization_page_found_in_the_urls():
    out = StringIO()
    call_command("bench_pages", customers=6, people=3, samples=2, stdout=out)
    lines = out.getvalue().splitlines()
    timed = {
        m.group(1): m.group(2)
        for line in lines
        if (m := re.match(r"\s+(\S+)\s+median.*HTTP (\S+)", line))
    }
    # Pages of all three apps, found without being listed; every one answered 200.
    # Pages whose arguments come in pairs (a designation's metric, a person's certification) too.
    for name in (
        "org_home",
        "org_members",
        "org_scores",
        "org_scores_whatif",
        "org_benefits",
        "org_metric_drilldown",
        "org_certification_edit",
    ):
        assert timed.get(name) == "200", (name, out.getvalue())
    # POST-only actions are left out, not timed as errors.
    assert "org_scores_recompute" not in timed
    assert re.fullmatch(r"\d+ page\(s\) over 100\.0 ms p95.*", lines[-1])


def test_long_select_renders_like_djangos_select_multiple():
    widget = LongSelectMultiple(choices=[(1, "Sato <Ops>"), (2, "Tanaka")])
    html = widget.render("remove", [2], {"id": "id_remove"})
    assert html == (
        '<select name="remove" multiple id="id_remove">'
        '<option value="1">Sato &lt;Ops&gt;</option>'
        '<option value="2" selected>Tanaka</option></select>'
    )
