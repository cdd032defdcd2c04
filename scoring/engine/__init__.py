"""Pure-Python scoring engine: rule-set data plus raw measures in, points and gaps out.

No Django here on purpose: the rules are data loaded elsewhere, and every number is exact
(Fraction) so that, e.g., six deployments at 20/6 points each make exactly 20.
"""

from .numbers import COUNT, PERCENT, UNITS, USD, USERS, Number, format_amount, to_fraction
from .rules import (
    BASELINE_SUFFIX,
    CLASSIFICATION,
    MetricRule,
    RuleSet,
    RuleSetError,
    Scaling,
    SourceRule,
    StepRule,
    TrackMode,
    TrackRule,
    validate_rule_set,
)
from .scoring import (
    DesignationResult,
    GapPart,
    Measures,
    MetricResult,
    TrackResult,
    score_designation,
    score_designations,
    score_metric,
)

__all__ = [
    "BASELINE_SUFFIX",
    "CLASSIFICATION",
    "COUNT",
    "PERCENT",
    "UNITS",
    "USD",
    "USERS",
    "DesignationResult",
    "GapPart",
    "Measures",
    "MetricResult",
    "MetricRule",
    "Number",
    "RuleSet",
    "RuleSetError",
    "Scaling",
    "SourceRule",
    "StepRule",
    "TrackMode",
    "TrackResult",
    "TrackRule",
    "format_amount",
    "score_designation",
    "score_designations",
    "score_metric",
    "to_fraction",
    "validate_rule_set",
]
