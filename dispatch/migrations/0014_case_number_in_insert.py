"""Case numbers from the database, in the INSERT that writes the case (returned by it), instead of a
`SELECT nextval` of their own: the date in the city's time zone and the sequence, at least 5 digits."""

from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION dispatch_next_case_number() RETURNS varchar LANGUAGE sql VOLATILE AS $$
    SELECT to_char(statement_timestamp() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
           || lpad(n::text, greatest(5, length(n::text)), '0')
    FROM (SELECT nextval('dispatch_case_number_seq') AS n) AS next
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0013_supervision_same_caller_setting")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS dispatch_next_case_number();"),
        migrations.AlterField(
            model_name="case",
            name="number",
            field=models.CharField(
                db_default=models.Func(function="dispatch_next_case_number", output_field=models.CharField()),
                max_length=24,
                unique=True,
                verbose_name="编号",
            ),
        ),
    ]
