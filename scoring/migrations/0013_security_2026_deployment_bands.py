"""Security 2026: deployments per track, in the track's band (published-rules.md §4).

Enterprise: Microsoft 365 tenants of more than 300 licences with 15 % of them active, Azure
customers over $12,000 trailing ACR. SMB: tenants of 5-300 licences with 15 % active, Azure
customers of $750-$12,000 trailing ACR; 6 deployments × 3.3 points on both. Migration 0008
shipped one deployments metric shared by both tracks with the 2023 thresholds (25 seats, no
band); this splits it. Nothing else of the version changes.
"""

from decimal import Decimal

from django.db import migrations

BANDS = {
    # track: (M365 seat floor, M365 seat top, Azure trailing ACR floor, Azure top)
    "enterprise": (301, None, Decimal(12000), None),
    "smb": (5, 300, Decimal(750), 12000),
}


def _security_2026(apps):
    RuleSet = apps.get_model("scoring", "RuleSet")
    return RuleSet.objects.filter(designation__code="security", release="2026").first()


def _band(source, track):
    seats, seats_top, acr, acr_top = BANDS[track]
    if source.platform == "m365":
        source.seat_threshold, source.seat_max = seats, seats_top
    else:
        source.usage_threshold, source.seat_max = acr, acr_top
    source.save()


def split(apps, schema_editor):
    MetricRule = apps.get_model("scoring", "MetricRule")
    MetricSource = apps.get_model("scoring", "MetricSource")
    Track = apps.get_model("scoring", "Track")
    rule_set = _security_2026(apps)
    if rule_set is None:
        return
    shared = MetricRule.objects.filter(rule_set=rule_set, code="deployments", track=None).first()
    tracks = {t.code: t for t in Track.objects.filter(rule_set=rule_set)}
    if shared is None or set(tracks) != set(BANDS):
        return  # edited since it shipped: leave it to staff
    sources = list(MetricSource.objects.filter(metric=shared).order_by("pk"))
    smb = MetricRule.objects.create(
        rule_set=rule_set,
        code=shared.code,
        max_points=shared.max_points,
        target=shared.target,
        scaling=shared.scaling,
        unit_label=shared.unit_label,
        provenance=shared.provenance,
        track=tracks["smb"],
    )
    for source in sources:
        workloads = list(source.workloads.all())
        copy = MetricSource.objects.get(pk=source.pk)
        copy.pk = None
        copy.metric = smb
        copy.save()
        copy.workloads.set(workloads)
        _band(copy, "smb")
        _band(source, "enterprise")
    shared.track = tracks["enterprise"]
    shared.save()


def merge(apps, schema_editor):
    MetricRule = apps.get_model("scoring", "MetricRule")
    MetricSource = apps.get_model("scoring", "MetricSource")
    rule_set = _security_2026(apps)
    if rule_set is None:
        return
    MetricRule.objects.filter(rule_set=rule_set, code="deployments", track__code="smb").delete()
    enterprise = MetricRule.objects.filter(
        rule_set=rule_set, code="deployments", track__code="enterprise"
    ).first()
    if enterprise is None:
        return
    for source in MetricSource.objects.filter(metric=enterprise):
        if source.platform == "m365":
            source.seat_threshold = 25
        source.seat_max = None
        source.save()
    enterprise.track = None
    enterprise.save()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0012_track_freeze")]

    operations = [migrations.RunPython(split, merge)]
