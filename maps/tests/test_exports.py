"""Spreadsheet downloads as Excel and a CSV reader would open them."""

import csv
import datetime as dt
import io
from urllib.parse import unquote

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from maps.exports import spreadsheet_response

COLUMNS = ["单位", "响应率", "受理时间", "说明"]
ROWS = [
    ["西街道综合执法队", 0.95, timezone.make_aware(dt.datetime(2026, 11, 3, 9, 30)), "井盖松动"],
    ["北街道综合执法队", None, dt.date(2026, 11, 4), '=HYPERLINK("http://x")'],
]


def workbook(response):
    return load_workbook(io.BytesIO(response.content))


def test_an_excel_download_has_bold_chinese_headers_a_frozen_header_row_and_the_rows():
    response = spreadsheet_response(
        rows=ROWS, columns=COLUMNS, filename="单位考评", fmt="xlsx", title="单位考评 2026-11"
    )
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = workbook(response).active
    assert sheet.title == "单位考评 2026-11"
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == "西街道综合执法队"
    assert sheet["B2"].value == 0.95
    # Times are written in the city's local time.
    assert sheet["C2"].value == dt.datetime(2026, 11, 3, 9, 30)
    assert sheet["B3"].value is None
    # Chinese text is about twice as wide as Latin text, so its column is wider than its header.
    assert sheet.column_dimensions["A"].width >= 16


def test_text_that_looks_like_a_formula_stays_text():
    sheet = workbook(spreadsheet_response(rows=ROWS, columns=COLUMNS, filename="x", fmt="xlsx")).active
    assert sheet["D3"].value == '=HYPERLINK("http://x")'
    assert sheet["D3"].data_type == "s"
    body = spreadsheet_response(rows=ROWS, columns=COLUMNS, filename="x", fmt="csv").content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[2][3].startswith("'=")


def test_a_csv_download_starts_with_a_byte_order_mark_so_excel_reads_chinese():
    response = spreadsheet_response(rows=ROWS, columns=COLUMNS, filename="单位考评", fmt="csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == COLUMNS
    assert rows[1] == ["西街道综合执法队", "0.95", "2026-11-03 09:30:00", "井盖松动"]
    assert rows[2][1] == ""


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_file_name_is_chinese_with_an_ascii_fallback(fmt):
    response = spreadsheet_response(rows=[], columns=COLUMNS, filename="南明区 工单.xlsx", fmt=fmt)
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert disposition.encode("ascii")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"南明区 工单.{fmt}"
    assert response["Cache-Control"] == "private, no-store"


def test_an_empty_download_still_has_its_header_row():
    sheet = workbook(spreadsheet_response(rows=iter(()), columns=COLUMNS, filename="x", fmt="xlsx")).active
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert sheet.max_row == 1


def test_an_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        spreadsheet_response(rows=[], columns=COLUMNS, filename="x", fmt="pdf")
