"""The coverage exports: the dealer table as an .xlsx, the monthly coverage report as a PDF.

Like the pages, they carry estate facts and counts only (no owners, phones, groups or dealer staff).
"""

from __future__ import annotations

import io
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.models import BUSINESS_TIMEZONE
from crm.core.xlsx import keep_text, xlsx_text
from crm.coverage import queries
from crm.coverage.models import CoverageStatus, DecisionList

REPORT_LIST_LIMIT = 200  # estates per list in the PDF; the rest are counted, not listed


# --- the workbook ---------------------------------------------------------------------------------


def _columns():
    """The sheet's columns: (header, width, the value for a row, number format); None leaves a cell empty."""

    def rate(name):
        return lambda row: getattr(row.counts, name)

    return [
        (_("经销商编号"), 12, lambda row: row.code, None),
        (_("经销商"), 22, lambda row: row.name, None),
        (_("城市"), 10, lambda row: row.city, None),
        (_("楼盘(已摸排)"), 12, lambda row: row.counts.surveyed, "#,##0"),
        (_("目标"), 8, lambda row: row.counts.targeted, "#,##0"),
        (_("有群"), 8, lambda row: row.counts.with_group, "#,##0"),
        (_("运营中"), 8, lambda row: row.counts.operating, "#,##0"),
        (_("已转化"), 8, lambda row: row.counts.converted, "#,##0"),
        (_("有盘不做"), 10, lambda row: row.counts.neglected, "#,##0"),
        (_("目标率"), 9, rate("target_rate"), "0.0%"),
        (_("建群率"), 9, rate("group_rate"), "0.0%"),
        (_("运营率"), 9, rate("operating_rate"), "0.0%"),
        (_("转化率"), 9, rate("conversion_rate"), "0.0%"),
        (_("本月交定"), 10, lambda row: row.this_month.deposits, "#,##0"),
        (_("交定较上月"), 11, lambda row: row.trend("deposits"), "+#,##0;-#,##0;0"),
        (_("本月成交"), 10, lambda row: row.this_month.orders, "#,##0"),
        (_("成交较上月"), 11, lambda row: row.trend("orders"), "+#,##0;-#,##0;0"),
        (_("本月成交额（元）"), 16, lambda row: row.this_month.amount, "#,##0.00"),
        (_("上月成交额（元）"), 16, lambda row: row.last_month.amount, "#,##0.00"),
    ]


def dealer_workbook(
    rows: list[queries.CoverageRow],
    totals: queries.CoverageRow,
    th: queries.Thresholds,
    month: date,
    generated_at: datetime | None = None,
) -> bytes:
    """The dealer table (rows in the order given, then the totals) and a sheet saying what the figures mean."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = _columns()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("经销商覆盖")
    sheet.append([header for header, *_rest in columns])
    for row in rows:
        sheet.append([xlsx_text(value(row)) for _header, _width, value, _format in columns])
    total_row = [xlsx_text(value(totals)) for _header, _width, value, _format in columns]
    total_row[0], total_row[1], total_row[2] = _("合计"), _("%(n)d 家经销商", n=len(rows)), None
    sheet.append(total_row)
    keep_text(sheet)
    header_fill = PatternFill("solid", fgColor="EEF1F4")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for index, (_header, width, _value, number_format) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "D2"

    notes = workbook.create_sheet(_("说明"))
    generated_at = generated_at or datetime.now(BUSINESS_TIMEZONE)
    for label, value in [
        (_("月份"), month.strftime("%Y-%m")),
        (_("覆盖状态统计至"), th.today.isoformat()),
        (_("有盘不做：目标后超过（天）未建群"), th.neglect_days),
        (_("运营中：最近（天）内有群数据或剧本任务"), th.active_days),
        (_("归属冲突半径（米）"), th.conflict_radius_m),
        (_("生成时间"), generated_at.astimezone(BUSINESS_TIMEZONE).strftime("%Y-%m-%d %H:%M")),
        ("", ""),
        (_("目标率"), _("目标楼盘 ÷ 已摸排楼盘")),
        (_("建群率"), _("有群楼盘 ÷ 目标楼盘")),
        (_("运营率"), _("运营中楼盘 ÷ 有群楼盘")),
        (_("转化率"), _("已转化楼盘 ÷ 目标楼盘")),
        (_("本月交定 / 本月成交"), _("所选月份交定金的订单数 / 签约的订单数（不含已取消）")),
    ]:
        notes.append([label, value])
    for cell in notes["A"]:
        cell.font = Font(bold=True)
    notes.column_dimensions["A"].width = 36
    notes.column_dimensions["B"].width = 48

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the PDF report -------------------------------------------------------------------------------


def coverage_report_pdf(
    session: Session, th: queries.Thresholds, month: date, sort: str = "name", descending: bool = False
) -> bytes:
    """月度覆盖报告 (A4 landscape): network totals, the dealer table, the month's two lists with HQ's
    decisions (at most REPORT_LIST_LIMIT estates each) and the two leaderboards."""
    from crm.pdf.engine import render_pdf

    rows = queries.dealer_table(session, th, month)
    totals = queries.network_totals(rows)
    neglected, neglected_total = queries.candidates(session, th, DecisionList.NEGLECTED, month, limit=REPORT_LIST_LIMIT)
    supported, supported_total = queries.candidates(session, th, DecisionList.SUPPORTED, month, limit=REPORT_LIST_LIMIT)
    return render_pdf(
        "pdf/coverage_report.html",
        landscape=True,
        title=_("月度覆盖报告 %(month)s", month=month.strftime("%Y-%m")),
        month=month,
        th=th,
        rows=queries.sort_rows(rows, sort, descending),
        totals=totals,
        by_status=totals.counts.by_status,
        lists=[
            (DecisionList.NEGLECTED, neglected, neglected_total),
            (DecisionList.SUPPORTED, supported, supported_total),
        ],
        boards=queries.leaderboards(session, month),
        CoverageStatus=CoverageStatus,
        DecisionList=DecisionList,
    )
