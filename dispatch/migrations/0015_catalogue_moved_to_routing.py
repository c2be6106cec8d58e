"""Category and ResponsibilityRule left for the routing app (routing 0001): state only, the tables stay.

The case's category key points at routing.Category; then the two models leave dispatch's state. It
waits for hotline's keys to be re-pointed too, so no key is left pointing at a model that is gone.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0014_case_number_in_insert'),
        ('routing', '0001_initial'),
        ('hotline', '0002_category_in_routing'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='category',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='routing.category', verbose_name='类别'),
                ),
                migrations.DeleteModel(
                    name='ResponsibilityRule',
                ),
                migrations.DeleteModel(
                    name='Category',
                ),
            ],
        ),
    ]
