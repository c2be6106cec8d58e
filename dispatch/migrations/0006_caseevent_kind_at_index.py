from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built concurrently: intake appends events all day, and a plain CREATE INDEX would hold it up.
    atomic = False

    dependencies = [
        ("dispatch", "0005_caseevent_kind_merged_in"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="caseevent",
            index=models.Index(fields=["kind", "at"], name="caseevent_kind_at"),
        ),
    ]
