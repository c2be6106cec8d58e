"""Seed the working calendar with every year the chinese_calendar package knows.

This is the only place the package is used: from here on the tables are the calendar, and new years
are entered in the admin or with `manage.py import_holidays`. Years already in the tables are left
as they are, so re-running the seed (or a later package) never overwrites an administrator's edits.
"""

from django.db import migrations

# The package names holidays in English; the tables and the pages speak Chinese.
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def seed(apps, schema_editor):
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - the package is pinned; without it the years are entered by hand
        return
    CalendarYear = apps.get_model("dispatch", "CalendarYear")
    CalendarDay = apps.get_model("dispatch", "CalendarDay")
    version = getattr(chinese_calendar, "__version__", "")
    rows: dict[int, list] = {}
    for table, kind, suffix in (
        (chinese_calendar.holidays, "holiday", ""),
        (chinese_calendar.workdays, "workday", "调休"),
    ):
        for day, name in table.items():
            label = NAMES.get(name, name) + suffix
            rows.setdefault(day.year, []).append((day, kind, label))
    existing = set(CalendarYear.objects.values_list("year", flat=True))
    for year in sorted(set(rows) - existing):
        CalendarYear.objects.create(year=year, source=f"chinese_calendar {version}".strip())
        CalendarDay.objects.bulk_create(
            CalendarDay(year_id=year, date=day, kind=kind, name=name) for day, kind, name in sorted(rows[year])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0008_working_calendar"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
