"""On PostgreSQL, the usage table's unique index also carries the value (INCLUDE).

The scoring queries look each customer's months up through this index; with the value in it
they never visit the table. SQLite cannot build such an index, so there the plain unique
constraint of 0001 stays. Django's model state is the same on both: a plain UniqueConstraint
with the same key columns, so ON CONFLICT (customer_id, measure, workload, month) still matches.
"""

from django.db import migrations

KEY = "(customer_id, measure, workload, month)"


def include_value(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE scoring_usage DROP CONSTRAINT uniq_usage")
    schema_editor.execute(
        f"ALTER TABLE scoring_usage ADD CONSTRAINT uniq_usage UNIQUE {KEY} INCLUDE (value)"
    )


def key_only(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE scoring_usage DROP CONSTRAINT uniq_usage")
    schema_editor.execute(f"ALTER TABLE scoring_usage ADD CONSTRAINT uniq_usage UNIQUE {KEY}")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_program_catalog")]

    operations = [migrations.RunPython(include_value, key_only)]
