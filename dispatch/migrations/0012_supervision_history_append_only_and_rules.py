"""A finding's history is append-only in the database, and every supervision rule gets its settings.

The trigger refuses UPDATE and DELETE on `dispatch_findingentry` whoever asks, as 0003 does for the
case event log. The rule settings are seeded with the defaults docs/supervision.md lists; after this
they belong to the admin (a later change of defaults in code does not overwrite a city's choices).
"""

from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION dispatch_findingentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'dispatch_findingentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER dispatch_findingentry_append_only
    BEFORE UPDATE OR DELETE ON dispatch_findingentry
    FOR EACH ROW EXECUTE FUNCTION dispatch_findingentry_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS dispatch_findingentry_append_only ON dispatch_findingentry;
DROP FUNCTION IF EXISTS dispatch_findingentry_append_only();
"""

# (code, severity, window_days, threshold, min_count, params): frozen here, as migrations must be.
DEFAULTS = [
    ("return_rate", "medium", 30, 30, 5, {}),
    ("case_bouncing", "high", 30, 2, 0, {}),
    ("reply_without_photo", "medium", 30, 50, 3, {"category_prefixes": ["BJ", "SJ01", "SJ03"]}),
    ("quick_reply", "medium", 30, 10, 3, {"median_hours": 4, "min_share": 30}),
    ("last_hour_replies", "low", 30, 50, 4, {"minutes": 60}),
    ("frequent_extensions", "medium", 30, 50, 4, {}),
    ("signed_idle", "high", 30, 30, 3, {}),
    ("rapid_callbacks", "high", 30, 90, 8, {}),
    ("self_verification", "high", 30, 0, 2, {}),
]


def seed(apps, schema_editor):
    RuleSetting = apps.get_model("dispatch", "RuleSetting")
    for code, severity, window_days, threshold, min_count, params in DEFAULTS:
        RuleSetting.objects.get_or_create(
            code=code,
            defaults={
                "severity": severity,
                "window_days": window_days,
                "threshold": threshold,
                "min_count": min_count,
                "params": params,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0011_supervision_findings")]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
