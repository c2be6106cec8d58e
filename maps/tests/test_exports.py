"""Spreadsheet downloads (maps/exports.py): real workbooks, CSV that Excel reads, no formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from maps.exports import spreadsheet_response

ROWS = [
    (1, "南明区城市管理局", 66.7, dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)),
    (2, '=HYPERLINK("x")', 0, None),
]
COLUMNS = ["编号", "单位", "退单率（%）", "时间"]


def test_an_xlsx_download_is_a_workbook_with_chinese_headers_and_local_times():
    response = spreadsheet_response(rows=ROWS, columns=COLUMNS, filename="单位排名", fmt="xlsx", title="排名")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''%E5%8D%95" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["排名"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(COLUMNS)
    assert rows[1][:3] == (1, "南明区城市管理局", 66.7)
    # Excel has no time zones: the Shanghai wall-clock time.
    assert rows[1][3] == dt.datetime(2026, 12, 1, 9, 30)
    # Text that looks like a formula stays text.
    assert rows[2][1] == '\'=HYPERLINK("x")'


def test_a_csv_download_has_a_byte_order_mark_for_excel():
    response = spreadsheet_response(rows=ROWS, columns=COLUMNS, filename="单位排名", fmt="csv")
    assert response.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == COLUMNS and table[1][1] == "南明区城市管理局"
    assert table[1][3].startswith("2026-12-01 09:30")


def test_an_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError):
        spreadsheet_response(rows=[], columns=["a"], filename="x", fmt="pdf")
