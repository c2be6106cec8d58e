"""Import one year of the State Council's holidays and make-up working days from a text file.

One line per day: `DATE KIND [NAME]`, fields separated by spaces, tabs or commas, `#` for comments:

    # 国务院办公厅关于2027年部分节假日安排的通知
    2027-01-01 holiday 元旦
    2027-02-07 workday 春节调休

The file replaces the year's days as a whole, then the deadlines of open cases are recomputed on the
new calendar (one `deadlines_recomputed` event per case that moved). docs/calendar.md has the details.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dispatch.models import CalendarDay
from dispatch.services.calendar import calendar_year_import, parse_holiday_lines


class Command(BaseCommand):
    help = "Replace one year's holidays and make-up working days (调休) with those in FILE ('-' for stdin)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the year's days, one 'YYYY-MM-DD holiday|workday [name]' per line")
        parser.add_argument("--year", type=int, help="the year (needed only when the file has no days)")
        parser.add_argument("--source", default="", help="where the dates come from, e.g. the notice's number")
        parser.add_argument("--dry-run", action="store_true", help="check the file and say what it holds; save nothing")

    def handle(self, *args, file: str, year: int | None, source: str, dry_run: bool, **options):
        try:
            if file == "-":
                lines = sys.stdin.read().splitlines()
            else:
                lines = Path(file).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        try:
            days = parse_holiday_lines(lines)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        holidays = sum(1 for d in days if d.kind == CalendarDay.Kind.HOLIDAY)
        self.stdout.write(f"{file}: {holidays} holidays, {len(days) - holidays} make-up working days")
        if dry_run:
            years = sorted({d.date.year for d in days})
            self.stdout.write(f"dry run: nothing saved (year {', '.join(map(str, years)) or year})")
            return
        self.stdout.write("saving the year and recomputing the deadlines of open cases…")
        try:
            record, recomputed = calendar_year_import(
                year=year, days=days, source=source or ("stdin" if file == "-" else Path(file).name)
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{record.year}: saved; {recomputed.assignments_checked} open assignments checked, "
                f"deadlines moved on {len(recomputed.cases)} cases"
            )
        )
