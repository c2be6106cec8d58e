"""The security log is append-only in the database, as the case event log is.

The trigger refuses UPDATE and DELETE on every row, whoever runs them — the application, the admin, a
superuser in psql. (TRUNCATE is a table-owner operation that the test runner uses to reset the
database; it is not a way to edit one person's history.)
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION partners_securityevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'partners_securityevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER partners_securityevent_append_only
    BEFORE UPDATE OR DELETE ON partners_securityevent
    FOR EACH ROW EXECUTE FUNCTION partners_securityevent_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS partners_securityevent_append_only ON partners_securityevent;
DROP FUNCTION IF EXISTS partners_securityevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("partners", "0003_security_event")]

    operations = [migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY)]
