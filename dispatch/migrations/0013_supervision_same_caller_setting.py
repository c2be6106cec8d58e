"""The settings row of the hotline's same-caller rule, so a city can tune it in the admin before its
first run (the rule itself is registered by the hotline app; a row without its rule does nothing)."""

from django.db import migrations


def seed(apps, schema_editor):
    RuleSetting = apps.get_model("dispatch", "RuleSetting")
    RuleSetting.objects.get_or_create(
        code="same_caller",
        defaults={
            "severity": "medium",
            "window_days": 30,
            "threshold": 5,
            "min_count": 0,
            "params": {"same_unit_share": 80},
        },
    )


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0012_supervision_history_append_only_and_rules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
