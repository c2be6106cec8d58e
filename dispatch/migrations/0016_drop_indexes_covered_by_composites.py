"""Drop five single-column foreign-key indexes that a composite index already leads with.

Each case POST wrote every one of them for nothing: case_lead_status, assignment_unit_status,
assignment_partner_status, caseevent_case_seq and the unique (user, key) of idempotency keys serve
the same lookups. Only the indexes go; the foreign keys are left as they are (Django's own
AlterField would drop and re-validate each constraint, scanning the event log).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0015_catalogue_moved_to_routing'),
        ('partners', '0004_security_event_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
            migrations.RunSQL(
                'DROP INDEX IF EXISTS "dispatch_assignment_partner_id_eb03aae4"',
                reverse_sql='CREATE INDEX IF NOT EXISTS "dispatch_assignment_partner_id_eb03aae4" ON "dispatch_assignment" ("partner_id")',
            ),
            migrations.RunSQL(
                'DROP INDEX IF EXISTS "dispatch_assignment_unit_id_107b4179"',
                reverse_sql='CREATE INDEX IF NOT EXISTS "dispatch_assignment_unit_id_107b4179" ON "dispatch_assignment" ("unit_id")',
            ),
            migrations.RunSQL(
                'DROP INDEX IF EXISTS "dispatch_case_lead_unit_id_4cc6b911"',
                reverse_sql='CREATE INDEX IF NOT EXISTS "dispatch_case_lead_unit_id_4cc6b911" ON "dispatch_case" ("lead_unit_id")',
            ),
            migrations.RunSQL(
                'DROP INDEX IF EXISTS "dispatch_caseevent_case_id_c13b6324"',
                reverse_sql='CREATE INDEX IF NOT EXISTS "dispatch_caseevent_case_id_c13b6324" ON "dispatch_caseevent" ("case_id")',
            ),
            migrations.RunSQL(
                'DROP INDEX IF EXISTS "dispatch_idempotencykey_user_id_900dddf2"',
                reverse_sql='CREATE INDEX IF NOT EXISTS "dispatch_idempotencykey_user_id_900dddf2" ON "dispatch_idempotencykey" ("user_id")',
            ),
            ],
            state_operations=[
            migrations.AlterField(
                model_name='assignment',
                name='partner',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='partners.partner'),
            ),
            migrations.AlterField(
                model_name='assignment',
                name='unit',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assignments', to='partners.unit'),
            ),
            migrations.AlterField(
                model_name='case',
                name='lead_unit',
                field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='led_cases', to='partners.unit', verbose_name='主办单位'),
            ),
            migrations.AlterField(
                model_name='caseevent',
                name='case',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='dispatch.case'),
            ),
            migrations.AlterField(
                model_name='idempotencykey',
                name='user',
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='idempotency_keys', to=settings.AUTH_USER_MODEL),
            ),
            ],
        ),
    ]
