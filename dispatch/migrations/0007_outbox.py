"""The transactional outbox (dispatch/models/outbox.py).

Every case event gets its live-outbox row from a trigger, in the same statement that inserts the
event, so an event written by any code path (or by hand in psql) is delivered by the relay even if
the process that wrote it dies before publishing. Events that exist before this migration were
published (or not) already; clients catch up on them by resuming, so they get no rows.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

ENQUEUE_LIVE = """
CREATE OR REPLACE FUNCTION dispatch_caseevent_to_outbox() RETURNS trigger AS $$
BEGIN
    INSERT INTO dispatch_liveoutbox (event_id, created_at) VALUES (NEW.id, clock_timestamp());
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER dispatch_caseevent_to_outbox
    AFTER INSERT ON dispatch_caseevent
    FOR EACH ROW EXECUTE FUNCTION dispatch_caseevent_to_outbox();
"""

DROP_ENQUEUE_LIVE = """
DROP TRIGGER IF EXISTS dispatch_caseevent_to_outbox ON dispatch_caseevent;
DROP FUNCTION IF EXISTS dispatch_caseevent_to_outbox();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0006_caseevent_kind_at_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='LiveOutbox',
            fields=[
                ('event_id', models.BigIntegerField(primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                'verbose_name': 'live outbox row',
            },
        ),
        migrations.CreateModel(
            name='TaskOutbox',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('task', models.CharField(max_length=120)),
                ('kwargs', models.JSONField(default=dict)),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ('enqueued_at', models.DateTimeField(blank=True, null=True)),
                ('attempts', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'task outbox row',
                'indexes': [models.Index(fields=['enqueued_at', 'id'], name='taskoutbox_enqueued')],
            },
        ),
        migrations.RunSQL(ENQUEUE_LIVE, DROP_ENQUEUE_LIVE),
    ]
