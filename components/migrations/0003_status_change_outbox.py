from django.db import migrations, models


class Migration(migrations.Migration):
    """Status changes become the outbox of component_update webhooks: a public id to name the
    event, and a "fanned out at" time (set on existing rows by 0004: history is not news)."""

    dependencies = [
        ("components", "0002_uptime_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="componentstatuschange",
            name="fanned_out_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="componentstatuschange",
            name="public_id",
            field=models.CharField(editable=False, max_length=16, null=True),
        ),
    ]
