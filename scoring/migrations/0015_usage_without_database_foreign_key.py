"""Usage and UsageYear keep their customer without a database-level foreign key.

At a million usage rows the constraint's per-row check at the commit cost more than the
import's whole merge; the imports lock the file's customers FOR KEY SHARE instead, and a
customer's deletion still deletes its series (Django's CASCADE). On SQLite, altering the field
rebuilds the table, which drops its triggers: they are created again (without the backfill,
the yearly rows are kept as they are).
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

usage_by_year = importlib.import_module("scoring.migrations.0005_usage_by_year")


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in ("ins", "upd", "del"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS scoring_usage_year_{name}")
    for statement in usage_by_year._sqlite_triggers():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0014_certifications_without_exam_codes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="usage",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="scoring.customer",
            ),
        ),
        migrations.AlterField(
            model_name="usageyear",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="scoring.customer",
            ),
        ),
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop),
    ]
