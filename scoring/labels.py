"""The English labels of the shipped rule sets, marked for translation.

Metric `unit_label`s and source `label`s are program data (migration 0002, then staff edits):
the dashboard passes them through `gettext` at render time, so the shipped ones read in
Japanese and a label staff type later falls back to its English text. Keep this list in step
with the catalog migrations (0002, then 0008 onwards); a test checks that it covers every label
of every shipped version.
"""

from django.utils.translation import gettext_noop, pgettext_lazy

SHIPPED_LABELS = (
    # Net Customer Adds
    gettext_noop("net customer adds"),
    gettext_noop("M365 net customer adds"),
    gettext_noop("Azure net customer adds"),
    # Intermediate and advanced certifications
    gettext_noop("individuals"),
    # Usage growth
    gettext_noop("usage growth"),
    gettext_noop("MPU growth"),
    gettext_noop("Security ACR growth"),
    gettext_noop("MAU growth"),
    gettext_noop("Infrastructure ACR growth"),
    gettext_noop("Data & AI ACR growth"),
    gettext_noop("Digital & App Innovation ACR growth"),
    gettext_noop("Dynamics 365 / Power Platform revenue growth"),
    # Deployments
    gettext_noop("deployments"),
    gettext_noop("M365 deployments"),
    gettext_noop("Azure deployments"),
    # The published versions (migrations 0008 onwards): growth and deployments by association
    # type, Azure consumption, the consumption value, distinct services, workloads per tenant
    gettext_noop("Azure consumption growth"),
    gettext_noop("CPOR MAU growth"),
    gettext_noop("CSP MAU growth"),
    gettext_noop("DPOR MAU growth"),
    gettext_noop("consumption value growth"),
    gettext_noop("CPOR deployments"),
    gettext_noop("CSP deployments"),
    gettext_noop("DPOR deployments"),
    gettext_noop("distinct Azure services"),
    gettext_noop("workloads per tenant"),
)

# After "1 more": the singular of each shipped count label. A label staff type later has none,
# and reads in its own (plural) form whatever the amount.
SINGULAR_LABELS = {
    "net customer adds": gettext_noop("net customer add"),
    "M365 net customer adds": gettext_noop("M365 net customer add"),
    "Azure net customer adds": gettext_noop("Azure net customer add"),
    "individuals": gettext_noop("individual"),
    "deployments": gettext_noop("deployment"),
    "M365 deployments": gettext_noop("M365 deployment"),
    "Azure deployments": gettext_noop("Azure deployment"),
    "CPOR deployments": gettext_noop("CPOR deployment"),
    "CSP deployments": gettext_noop("CSP deployment"),
    "DPOR deployments": gettext_noop("DPOR deployment"),
    "distinct Azure services": gettext_noop("distinct Azure service"),
    "workloads per tenant": gettext_noop("workload per tenant"),
}


# The engine's own gap labels (people of a gated skilling step), in the "gap label" context: in
# a gap they count people ("2 more people"), where the same words elsewhere name them.
GAP_LABEL_CONTEXT = "gap label"
ENGINE_GAP_LABELS = (
    pgettext_lazy("gap label", "people"),
    pgettext_lazy("gap label", "person"),
)


def singular_label(label: str) -> str:
    """The label's form after "1 more", or "" when the program data gives none."""
    return SINGULAR_LABELS.get(label, "")
