"""Spreadsheet downloads: one function turns rows into an Excel workbook or a CSV file.

Every download of the project (unit rankings, case lists, hot topics, supervision findings) goes
through `spreadsheet_response`, so they all look alike: Chinese headers in bold, a frozen header row,
columns wide enough to read, and a file name that survives any browser.

CSV starts with a UTF-8 byte order mark: without it Excel on a Chinese Windows reads the file as GBK
and shows mojibake. Cells that begin with = + - @ are prefixed with a quote in CSV (and stored as
text in xlsx), because a caller's description is untrusted text and must never become a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

XLSX = "xlsx"
CSV = "csv"
FORMATS = (XLSX, CSV)
CONTENT_TYPES = {
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    CSV: "text/csv; charset=utf-8",
}
# Excel's own limit on a sheet's name.
_SHEET_NAME_MAX = 31
# Characters Excel refuses in a sheet's name, and their full-width look-alikes.
_SHEET_NAME_SAFE = str.maketrans("[]:*?/\\", "（）：＊？／＼")
_MAX_COLUMN_WIDTH = 60
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _display_width(text: str) -> int:
    """Width in Excel's character units: a Chinese character is about two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _plain(value):
    """A cell value Excel and CSV both understand: aware datetimes in local time, without tzinfo."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.replace(microsecond=0)
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (bool, int, float, dt.date, str)):
        return value
    return str(value)


def _csv_text(value) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def content_disposition(filename: str) -> str:
    """attachment; with an ASCII fallback and the real (Chinese) name in RFC 5987 form."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _xlsx(rows: Iterable[Sequence], columns: Sequence[str], title: str) -> bytes:
    # openpyxl takes a while to import and only spreadsheet downloads use it.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # A write-only workbook streams rows (several times faster than the normal one), but wants the
    # column widths before the first row: the rows are read once to measure them.
    values = [[_plain(value) for value in row] for row in rows]
    widths = [_display_width(str(name)) for name in columns]
    for row in values:
        for index, value in enumerate(row[: len(widths)]):
            if value is not None:
                widths[index] = max(widths[index], _display_width(str(value)) if isinstance(value, str) else 19)
    book = Workbook(write_only=True)
    sheet = book.create_sheet((title or "Sheet1").translate(_SHEET_NAME_SAFE)[:_SHEET_NAME_MAX])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(_MAX_COLUMN_WIDTH, max(8, width + 2))
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(values) + 1}"
    bold = Font(bold=True)

    def header(name) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font = bold
        return cell

    def cell(value):
        if isinstance(value, str) and value.startswith("="):
            # openpyxl would write it as a formula; a caller's text never is one.
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = TYPE_STRING
            return text
        if isinstance(value, dt.datetime):
            stamped = WriteOnlyCell(sheet, value=value)
            stamped.number_format = "yyyy-mm-dd hh:mm:ss"
            return stamped
        return value

    sheet.append([header(name) for name in columns])
    for row in values:
        sheet.append([cell(value) for value in row])
    book.properties.title = title or None
    book.properties.creator = "社会和云"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: Iterable[Sequence], columns: Sequence[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(name) for name in columns])
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def spreadsheet_response(
    *, rows: Iterable[Sequence], columns: Sequence[str], filename: str, fmt: str, title: str = ""
) -> HttpResponse:
    """A download of `rows` under the header `columns`, as `fmt` ("xlsx" or "csv").

    `filename` is given without extension (one is added, or replaced, to match `fmt`); `title` names
    the sheet and the workbook. A wrong `fmt` is a programming error (ValueError): views validate
    the user's choice first.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown spreadsheet format {fmt!r}; expected one of {FORMATS}.")
    stem = filename.rsplit(".", 1)[0] if filename.lower().endswith((".xlsx", ".csv")) else filename
    body = _xlsx(rows, columns, title) if fmt == XLSX else _csv(rows, columns)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition(f"{stem}.{fmt}")
    # Figures of one user's view: never from a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
