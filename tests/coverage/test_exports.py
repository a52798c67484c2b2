"""The coverage exports: the dealer table as Excel, the monthly coverage report as PDF."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from crm.core.xlsx import XLSX_MIMETYPE
from crm.coverage import exports, queries, service
from crm.coverage.models import DecisionKind, DecisionList
from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.org.models import Dealer, User
from tests.coverage.test_tables import personal_markers, seed_coverage
from tests.pdf import poppler


@pytest.fixture
def seeded(app, world):
    return seed_coverage(app, world)


def _workbook(response):
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    return load_workbook(io.BytesIO(response.data))


# --- Excel --------------------------------------------------------------------------------------


def test_the_workbook_holds_the_table_as_numbers_in_the_pages_order(world, seeded, login):
    response = login(world.hq_viewer).get(
        f"/hq/coverage/export.xlsx?month={seeded.month:%Y-%m}&sort=with_group&dir=desc"
    )
    month = f"{seeded.month:%Y-%m}"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="coverage-{month}.xlsx"' in disposition
    assert f"filename*=UTF-8''{quote(f'覆盖报表-{month}.xlsx')}" in disposition
    workbook = _workbook(response)
    assert workbook.sheetnames == ["经销商覆盖", "说明"]
    sheet = workbook["经销商覆盖"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:13] == [
        "经销商编号",
        "经销商",
        "城市",
        "楼盘(已摸排)",
        "目标",
        "有群",
        "运营中",
        "已转化",
        "有盘不做",
        "目标率",
        "建群率",
        "运营率",
        "转化率",
    ]
    assert rows[0][13:] == ["本月交定", "交定较上月", "本月成交", "成交较上月", "本月成交额（元）", "上月成交额（元）"]
    b, a, total = rows[1], rows[2], rows[3]  # sorted by 有群, most first
    assert b[:9] == ["BBB", world.b.dealer_name, "长春", 3, 3, 3, 2, 1, 0]
    assert b[9:13] == [1, 1, pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert b[13:] == [1, -1, 1, 1, 2000, 0]
    assert a[:9] == ["AAA", world.a.dealer_name, "齐齐哈尔", 3, 2, 1, 1, 1, 1]
    assert a[13:17] == [1, 1, 0, 0]
    assert total[:9] == ["合计", "2 家经销商", None, 6, 5, 4, 3, 2, 1]
    assert total[9:13] == [pytest.approx(5 / 6), pytest.approx(4 / 5), pytest.approx(3 / 4), pytest.approx(2 / 5)]
    assert total[13:] == [2, 0, 1, 1, 2000, 0]
    # Rates print as percentages, money with two decimals.
    assert sheet["J2"].number_format == "0.0%" and sheet["M4"].number_format == "0.0%"
    assert sheet["R2"].number_format == "#,##0.00"
    assert len(rows) == 4


def test_the_notes_sheet_says_the_month_and_the_thresholds(world, seeded, login):
    notes = _workbook(login(world.hq_admin).get("/hq/coverage/export.xlsx"))["说明"]
    values = {row[0]: row[1] for row in notes.iter_rows(values_only=True) if row[0]}
    assert values["月份"] == f"{seeded.month:%Y-%m}"
    assert values["覆盖状态统计至"] == seeded.today.isoformat()
    assert values["有盘不做：目标后超过（天）未建群"] == 30
    assert values["运营中：最近（天）内有群数据或剧本任务"] == 14
    assert values["归属冲突半径（米）"] == 200
    assert values["生成时间"].startswith(seeded.today.isoformat())


def test_a_name_that_looks_like_a_formula_stays_text(app, world, login):
    with app.app_context():
        db.session.get(Dealer, world.a.dealer_id).name = '=HYPERLINK("http://evil.example","点我")'
        db.session.commit()
    response = login(world.hq_admin).get("/hq/coverage/export.xlsx")
    sheet = _workbook(response)["经销商覆盖"]
    cell = next(row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "AAA")
    assert cell.value == '=HYPERLINK("http://evil.example","点我")' and cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


# --- PDF ----------------------------------------------------------------------------------------


def test_the_monthly_report_prints_totals_the_table_the_lists_and_the_leaderboards(app, world, seeded, login):
    with app.app_context():
        admin = db.session.scalars(sa.select(User).where(User.username == world.hq_admin)).one()
        th = queries.thresholds(db.session, None, seeded.today)
        estate = db.session.get(Estate, seeded.a_neglected_id)
        service.record_decision(
            db.session, th, estate, seeded.month, DecisionList.NEGLECTED, DecisionKind.PENALTY, "目标40天未建群", admin
        )
        db.session.commit()
    response = login(world.hq_viewer).get(f"/hq/coverage/report.pdf?month={seeded.month:%Y-%m}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    month = f"{seeded.month:%Y-%m}"
    assert f"filename*=UTF-8''{quote(f'月度覆盖报告-{month}.pdf')}" in response.headers["Content-Disposition"]
    pdf = response.data
    assert poppler.page_size_mm(pdf) == (297.0, 210.0)  # A4 landscape
    for font in poppler.fonts(pdf):
        assert "Noto-Sans-SC" in font["name"] and font["emb"] == "yes", font
    text = poppler.squeezed(poppler.text(pdf, layout=True))  # a table row stays one line
    assert f"月度覆盖报告{month}" in text
    # Network totals and the status counts.
    assert "楼盘(已摸排)6" in text and "有盘不做1" in text and "转化率40.0%" in text
    for label, count in [("未规划", 1), ("目标未建群", 1), ("有群未运营", 1), ("运营中", 1), ("已转化", 2)]:
        assert f"{label}{count}" in text
    # The dealer table, a line per dealer with its trend, and the footer.
    assert "AAA甲经销商齐齐哈尔32111166.7%50.0%100.0%50.0%1↑+10—¥0.00" in text
    assert "BBB乙经销商长春333210100.0%100.0%66.7%33.3%1↓−11↑+1¥2,000.00" in text
    assert "全网合计65432183.3%80.0%75.0%40.0%" in text
    # The month's lists with HQ's decisions.
    assert "有盘不做共1个" in text and "甲目标盘" in text and "罚目标40天未建群" in text
    assert "有盘有群有运营共3个" in text and "乙运营盘" in text and "未决定" in text
    assert "另有" not in text
    # The leaderboards: B brought 7 new members and signed the month's one order.
    assert "拉新榜" in text and "1BBB乙经销商7" in text
    assert "成交榜" in text and "1BBB乙经销商1¥2,000.00" in text


def test_a_long_list_says_how_many_are_left_out(app, world, seeded, login, monkeypatch):
    with app.app_context():
        for n in range(2):
            estate = create_estate(
                db.session,
                world.b.dealer_id,
                EstateFields(name=f"乙久未建群{n}", city_id=world.city_ids["长春"], stage=EstateStage.TARGET),
            )
            estate.targeted_on = seeded.today - timedelta(days=60 + n)
        db.session.commit()
    monkeypatch.setattr(exports, "REPORT_LIST_LIMIT", 1)
    text = poppler.squeezed(poppler.text(login(world.hq_admin).get("/hq/coverage/report.pdf").data, layout=True))
    assert "有盘不做共3个" in text and "另有2个未列出" in text
    assert "乙久未建群1" in text and "甲目标盘" not in text  # the longest overdue first


# --- what the exports never carry ----------------------------------------------------------------


def test_no_export_carries_personal_data(world, seeded, login):
    client = login(world.hq_admin)
    workbook = _workbook(client.get("/hq/coverage/export.xlsx"))
    cells = " ".join(str(v) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row)
    pdf_text = poppler.text(client.get("/hq/coverage/report.pdf").data)
    for marker in personal_markers(world, seeded):
        assert marker not in cells, marker
        assert poppler.squeezed(marker) not in poppler.squeezed(pdf_text), marker
