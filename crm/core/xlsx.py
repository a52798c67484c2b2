"""What every Excel export needs: the MIME type, cell text openpyxl accepts, no accidental formulas, the download."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_text(value):
    """Text an .xlsx can hold: without the control characters openpyxl refuses."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def keep_text(sheet, min_row: int = 1) -> None:
    """Text that starts with "=" would become a formula in Excel: keep everything a person typed as text."""
    for row in sheet.iter_rows(min_row=min_row):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"


def xlsx_response(data: bytes, filename: str, ascii_filename: str) -> Response:
    """A download of a workbook: an ASCII name for old clients, the Chinese one (RFC 5987) for everyone else.
    Never kept by shared caches (workbooks hold dealer data)."""
    response = Response(data, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_filename}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
