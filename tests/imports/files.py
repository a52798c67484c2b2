"""Estate-list files as listing sites export them, built in memory for the import tests."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

HEADER = ["小区名称", "区域", "户数", "交房时间", "均价(元/㎡)", "经度", "纬度"]


def csv_bytes(rows: list[list], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """Rows (header first) as CSV in `encoding` ("utf-8-sig" adds the BOM Excel writes)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], blank_rows_before: int = 0) -> bytes:
    """Rows (header first) in the first sheet of a real .xlsx, after some empty rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "楼盘"
    for offset, row in enumerate(rows, start=1 + blank_rows_before):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=offset, column=column, value=value)
    workbook.create_sheet("说明").append(["这一页不会被读取"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
