"""Spreadsheet downloads: the same rows as a real Excel workbook (.xlsx) or as CSV.

CSV is written with a byte-order mark, because Excel on Chinese Windows reads a CSV without one as
GBK and turns every Chinese header into mojibake. Cells that a spreadsheet would run as a formula
(starting with = + - @) are prefixed with a quote: the rows carry text people typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("xlsx", "csv")
_FORMULA_START = ("=", "+", "-", "@")


def _cell(value):
    if isinstance(value, dt.datetime):
        # Excel has no time zones: write the local wall-clock time people expect to read.
        value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
        return value
    if value is None:
        return ""
    if isinstance(value, (int, float, dt.date)):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _disposition(filename: str) -> str:
    # RFC 6266: an ASCII fallback and the real (Chinese) name for browsers that read filename*.
    fallback = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def spreadsheet_response(
    *, rows: Iterable[Sequence], columns: Sequence[str], filename: str, fmt: str, title: str = ""
) -> HttpResponse:
    """A download of `rows` under the header `columns`; `fmt` is "xlsx" or "csv"; `filename` without extension."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow([str(c) for c in columns])
        for row in rows:
            writer.writerow([_cell(value) for value in row])
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook(write_only=False)
        sheet = book.active
        sheet.title = (title or "Sheet1")[:31]
        sheet.append([str(c) for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        widths = [len(str(c)) * 2 + 2 for c in columns]
        for row in rows:
            values = [_cell(value) for value in row]
            sheet.append(values)
            for index, value in enumerate(values[: len(widths)]):
                widths[index] = min(60, max(widths[index], len(str(value)) + 2))
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
        body = io.BytesIO()
        book.save(body)
        response = HttpResponse(body.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = _disposition(f"{filename}.{fmt}")
    response["Cache-Control"] = "private, no-store"
    return response
