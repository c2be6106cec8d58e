"""The category foreign keys point at routing.Category, where the model moved; the columns stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0001_initial'),
        ('routing', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='call',
                    name='category',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='calls', to='routing.category', verbose_name='category'),
                ),
                migrations.AlterField(
                    model_name='serviceattribute',
                    name='category',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='service_attributes', to='routing.category'),
                ),
                migrations.AlterField(
                    model_name='wordchoice',
                    name='category',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='routing.category'),
                ),
            ],
        ),
    ]
