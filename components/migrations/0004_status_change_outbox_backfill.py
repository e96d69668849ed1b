from django.db import migrations
from django.db.models import F

from statuspage.public_ids import new_public_id


def backfill(apps, schema_editor):
    """Existing history already happened: mark it fanned out so the sweep sends none of it,
    and give each row its public id."""
    changes = apps.get_model("components", "ComponentStatusChange")
    changes.objects.filter(fanned_out_at__isnull=True).update(fanned_out_at=F("changed_at"))
    batch = []
    for change in changes.objects.filter(public_id__isnull=True).only("pk").iterator():
        change.public_id = new_public_id()
        batch.append(change)
        if len(batch) >= 2000:
            changes.objects.bulk_update(batch, ["public_id"])
            batch = []
    changes.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("components", "0003_status_change_outbox"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
