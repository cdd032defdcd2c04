"""The row count of a bulk CSV (the batch limit and the 202 threshold read it): the quick count
of a body without quotes is csv's own."""

from __future__ import annotations

import csv
import io

import pytest

from scoring.api_bulk import _csv_rows

HEADER = b"month,platform,customer_id,measure,workload,value"


def _csv_count(body: bytes) -> int:
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8-sig", newline="")
    return max(sum(1 for cells in csv.reader(text) if any(c.strip() for c in cells)) - 1, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        HEADER,
        HEADER + b"\n",
        HEADER + b"\n2024-01,m365,a,paid_seats,,1\n2024-02,m365,a,paid_seats,,2\n",
        HEADER + b"\r\n2024-01,m365,a,paid_seats,,1\r\n\r\n,,,,,\r\n  , ,\r\n",
        HEADER + b"\r2024-01,m365,a,paid_seats,,1\r2024-02,m365,a,paid_seats,,2",
        b"\xef\xbb\xbf" + HEADER + b"\n2024-01,m365,a,paid_seats,,1\n\n\n",
        # Quoted: a cell may hold a line break; csv counts these.
        HEADER + b'\n2024-01,m365,"a\nb",paid_seats,,1\n"",,,,,\n',
    ],
)
def test_the_count_is_csvs(body):
    assert _csv_rows(body) == _csv_count(body)
