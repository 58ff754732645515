"""Creates the event store table with DDL of its own (see herald.tracking.storage)."""

from datetime import UTC, datetime

from django.db import migrations


def create(apps, schema_editor):
    from herald.tracking.storage import create_event_table, ensure_partitions

    create_event_table(schema_editor.connection)
    ensure_partitions(schema_editor.connection, start=datetime.now(UTC).date(), days=3)


def drop(apps, schema_editor):
    from herald.tracking.storage import drop_event_table

    drop_event_table(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
