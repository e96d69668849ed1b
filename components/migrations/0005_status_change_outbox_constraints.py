from django.db import migrations, models

import statuspage.public_ids


class Migration(migrations.Migration):
    dependencies = [
        ("components", "0004_status_change_outbox_backfill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="componentstatuschange",
            name="public_id",
            field=statuspage.public_ids.PublicIdField(
                default=statuspage.public_ids.new_public_id,
                editable=False,
                max_length=16,
                unique=True,
            ),
        ),
        migrations.AddIndex(
            model_name="componentstatuschange",
            index=models.Index(
                condition=models.Q(("fanned_out_at__isnull", True), ("is_backfilled", False)),
                fields=["changed_at"],
                name="component_change_due",
            ),
        ),
    ]
