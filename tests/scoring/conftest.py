"""Fixtures of the scoring tests."""

from __future__ import annotations

import pytest

from scoring.models import RuleSet


@pytest.fixture
def rules_2022_only(db) -> None:
    """Only the 2022 rule sets (the seed): the published versions of migration 0008 removed.

    The tests of the 2022 behaviour score dates after 2023-06-13, when the shipped 2023 and
    2026 versions would be in force; without them they check the seed's rules unchanged.
    """
    RuleSet.objects.filter(version__gt=1).delete()
