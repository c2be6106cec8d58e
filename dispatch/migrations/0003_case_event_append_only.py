"""The case event log is append-only in the database, and case numbers come from a sequence.

The trigger refuses UPDATE and DELETE on every row, whoever runs them — the application, the admin, a
superuser in psql. (TRUNCATE is a table-owner operation that the test runner uses to reset the
database; it is not a way to edit one case's history.)
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION dispatch_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'dispatch_caseevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER dispatch_caseevent_append_only
    BEFORE UPDATE OR DELETE ON dispatch_caseevent
    FOR EACH ROW EXECUTE FUNCTION dispatch_caseevent_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS dispatch_caseevent_append_only ON dispatch_caseevent;
DROP FUNCTION IF EXISTS dispatch_caseevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0002_cases")]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS dispatch_case_number_seq START 1;",
            "DROP SEQUENCE IF EXISTS dispatch_case_number_seq;",
        ),
    ]
