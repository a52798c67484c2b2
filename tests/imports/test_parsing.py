"""Reading estate lists: encodings, delimiters, XLSX, bad files, header mapping and cell values."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest

from crm.estates.models import EstateFinish
from crm.imports.parsing import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    PLACEHOLDERS,
    CellError,
    ImportFileError,
    auto_mapping,
    file_extension,
    is_blank,
    mapping_problems,
    normalize_header,
    parse_delivery,
    parse_finish,
    parse_households,
    parse_lnglat,
    parse_price,
    read_table,
    read_values,
)
from tests.imports.files import csv_bytes, xlsx_bytes

ROWS = [["小区名称", "户数", "备注"], ["龙华苑", "1,200户", "临江"], ["建华里", "800", ""]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(encoding):
    table = read_table(csv_bytes(ROWS, encoding=encoding), "csv")
    assert table.headers == ["小区名称", "户数", "备注"]  # no BOM left on the first header
    assert [(row.number, row.cells) for row in table.rows] == [
        (2, ["龙华苑", "1,200户", "临江"]),
        (3, ["建华里", "800", ""]),
    ]


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_csv_delimiter_is_sniffed(delimiter):
    table = read_table(csv_bytes(ROWS, encoding="gbk", delimiter=delimiter), "csv")
    assert table.headers == ["小区名称", "户数", "备注"]
    assert table.rows[0].cells == ["龙华苑", "1,200户", "临江"]


def test_csv_header_is_the_first_non_empty_row_and_blank_rows_are_skipped():
    data = b"\r\n,,\r\n" + csv_bytes([["Name", "Households"], ["A", "1"], ["", ""], ["B", "2"]])
    table = read_table(data, "csv")
    assert table.headers == ["Name", "Households"]
    assert [row.number for row in table.rows] == [4, 6]  # the numbers a spreadsheet shows


def test_xlsx_first_sheet_numbers_and_datetimes():
    data = xlsx_bytes(
        [
            ["小区名称", "户数", "交房时间", "均价", "经度", "纬度"],
            ["龙华苑", 1200, datetime(2025, 6, 30), 8800.0, 123.95, 47.35],
            [None, None, None, None, None, None],
            ["建华里", "约800户", "2026年第三季度", "1.1万", None, None],
        ],
        blank_rows_before=2,
    )
    table = read_table(data, "xlsx")
    assert table.headers == ["小区名称", "户数", "交房时间", "均价", "经度", "纬度"]
    assert [row.number for row in table.rows] == [4, 6]
    first = dict(zip(table.headers, table.rows[0].cells, strict=True))
    assert first["户数"] == 1200 and first["经度"] == 123.95
    assert isinstance(first["交房时间"], datetime)
    values, problems = read_values(
        {"name": first["小区名称"], "households": first["户数"], "delivery_date": first["交房时间"]}
    )
    assert problems == {}
    assert values == {"name": "龙华苑", "households": 1200, "delivery_date": date(2025, 6, 30)}


def test_duplicate_and_blank_headers_get_distinct_names():
    table = read_table(csv_bytes([["备注", "", "备注", ""], ["a", "b", "c", ""]]), "csv")
    assert table.headers == ["备注", "#2", "备注 (2)"]
    assert table.rows[0].cells == ["a", "b", "c"]


@pytest.mark.parametrize(
    "filename, data, message",
    [
        ("estates.xls", b"\xd0\xcf\x11\xe0 old excel", "另存为 .xlsx 或 CSV"),
        ("estates.txt", b"name\nA\n", "只能导入 .xlsx 或 .csv 文件"),
        ("estates", b"name\nA\n", "只能导入 .xlsx 或 .csv 文件"),
        ("estates.csv", b"", "上传的文件是空的"),
        ("estates.csv", b"\r\n \r\n,,\r\n", "没有表头行"),
        ("estates.xlsx", b"PK\x03\x04 this is no workbook", "无法读取这个 Excel 文件"),
        ("estates.xlsx", b"not even a zip", "无法读取这个 Excel 文件"),
        ("estates.csv", b"\x00\x01\x02binary", "不是文本格式"),
        ("estates.csv", b"x" * (MAX_FILE_BYTES + 1), "文件不能超过 5 MB"),
    ],
)
def test_unusable_files_are_refused_in_chinese(filename, data, message):
    with pytest.raises(ImportFileError, match=message):
        read_table(data, file_extension(filename))


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="无法读取这个 Excel 文件"):
        read_table(buffer.getvalue(), "xlsx")


def test_an_empty_workbook_has_no_header():
    with pytest.raises(ImportFileError, match="没有表头行"):
        read_table(xlsx_bytes([]), "xlsx")


def test_row_limit():
    rows = [["小区名称"]] + [[f"小区{i}"] for i in range(MAX_ROWS + 1)]
    with pytest.raises(ImportFileError, match=f"一次最多导入 {MAX_ROWS} 行"):
        read_table(csv_bytes(rows), "csv")


def test_file_extension_ignores_paths_and_case():
    assert file_extension(r"C:\Users\店长\桌面\楼盘表.XLSX") == "xlsx"
    assert file_extension("a.b/estates.csv") == "csv"
    assert file_extension("no-extension") == ""


def test_headers_are_normalised():
    assert normalize_header(" 均价(元/㎡) ") == "均价"
    assert normalize_header("均价（元/平米）") == "均价"
    assert normalize_header("ＮＡＭＥ") == "name"
    assert normalize_header("总 户 数【户】") == "总户数"
    assert normalize_header("Delivery_Date") == "deliverydate"


def test_auto_mapping_of_chinese_and_english_headers():
    chinese = ["楼盘名称", "所属区域", "楼盘地址", "规划户数", "交付时间", "参考均价(元/㎡)", "开发商", "装修情况"]
    chinese += ["竞品", "备注", "数据来源", "经度", "纬度", "物业费"]
    assert auto_mapping(chinese) == {
        "楼盘名称": "name",
        "所属区域": "district",
        "楼盘地址": "address",
        "规划户数": "households",
        "交付时间": "delivery_date",
        "参考均价(元/㎡)": "avg_price",
        "开发商": "developer",
        "装修情况": "finish",
        "竞品": "competitors",
        "备注": "notes",
        "数据来源": "source",
        "经度": "lng",
        "纬度": "lat",
        "物业费": "",
    }
    english = ["Name", "District", "Address", "Households", "Delivery", "Price", "Developer", "Longitude", "Latitude"]
    assert list(auto_mapping(english).values()) == [
        "name",
        "district",
        "address",
        "households",
        "delivery_date",
        "avg_price",
        "developer",
        "lng",
        "lat",
    ]
    assert auto_mapping(["小区", "坐标"]) == {"小区": "name", "坐标": "lnglat"}


def test_auto_mapping_never_maps_one_field_twice():
    mapping = auto_mapping(["小区名称", "楼盘名称", "经纬度", "经度", "纬度"])
    assert mapping == {"小区名称": "name", "楼盘名称": "", "经纬度": "", "经度": "lng", "纬度": "lat"}
    assert mapping_problems(mapping) == []


def test_mapping_problems():
    assert mapping_problems({"户数": "households"}) == ["请指定哪一列是“楼盘名称”"]
    assert mapping_problems({"a": "name", "b": "households", "c": "households"}) == ["“户数”只能对应一列"]
    assert "坐标请选一种" in mapping_problems({"a": "name", "b": "lnglat", "c": "lng"})[0]


@pytest.mark.parametrize("placeholder", sorted(PLACEHOLDERS) + ["暂无资料 ", "N/A", "NULL", "－－", "", "  ", None])
def test_placeholders_are_blank(placeholder):
    assert is_blank(placeholder)
    assert read_values({"households": placeholder, "delivery_date": placeholder, "developer": placeholder}) == ({}, {})


@pytest.mark.parametrize(
    "cell, expected",
    [("1,200户", 1200), ("约1200户", 1200), ("1200", 1200), (1200, 1200), (1200.0, 1200), ("１２００户", 1200)],
)
def test_households(cell, expected):
    assert parse_households(cell) == expected


@pytest.mark.parametrize("cell", ["很多", "1200.5", "-5", "一千二"])
def test_households_that_are_not_numbers(cell):
    with pytest.raises(CellError, match="不是数字"):
        parse_households(cell)


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("12000元/㎡", 12000),
        ("12000元/m²", 12000),
        ("1.2万", 12000),
        ("1.2万元/㎡", 12000),
        ("约9,800元/平米", 9800),
        ("12000-14000元/㎡", 13000),
        (8800, 8800),
        (8800.4, 8800),
    ],
)
def test_prices(cell, expected):
    assert parse_price(cell) == expected


@pytest.mark.parametrize("cell", ["总价120万/套", "面议", -3])
def test_prices_that_are_not_numbers(cell):
    with pytest.raises(CellError, match="均价"):
        parse_price(cell)


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("2025-06", date(2025, 6, 1)),
        ("2025年6月", date(2025, 6, 1)),
        ("2025/6/30", date(2025, 6, 30)),
        ("2025年", date(2025, 1, 1)),
        ("2025", date(2025, 1, 1)),
        (2025, date(2025, 1, 1)),
        ("2025年第二季度", date(2025, 4, 1)),
        ("2025年四季度", date(2025, 10, 1)),
        ("2025Q2", date(2025, 4, 1)),
        ("2025 q3", date(2025, 7, 1)),
        ("预计2025年底交房", date(2025, 12, 1)),
        ("2025.6", date(2025, 6, 1)),
        (datetime(2025, 6, 30, 0, 0), date(2025, 6, 30)),
        (date(2025, 6, 30), date(2025, 6, 30)),
    ],
)
def test_delivery_dates(cell, expected):
    assert parse_delivery(cell) == expected


@pytest.mark.parametrize("cell", ["明年五月", "2025-13", "2025-02-30", "2025Q5", "1800年"])
def test_delivery_dates_that_cannot_be_read(cell):
    with pytest.raises(CellError, match="交房时间「.*」无法识别"):
        parse_delivery(cell)


def test_lnglat_column_and_swapped_pairs():
    assert parse_lnglat("123.95,47.35") == (123.95, 47.35)
    assert parse_lnglat("123.95，47.35") == (123.95, 47.35)
    assert parse_lnglat("47.35, 123.95") == (123.95, 47.35)  # clearly "lat,lng": swapped back
    with pytest.raises(CellError, match="应写成“经度,纬度”"):
        parse_lnglat("123.95")
    with pytest.raises(CellError, match="应写成“经度,纬度”"):
        parse_lnglat("东门附近")


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("毛坯", EstateFinish.ROUGH),
        ("清水房", EstateFinish.ROUGH),
        ("精装修", EstateFinish.FINISHED),
        ("简装", EstateFinish.FINISHED),
        ("全装修交付", EstateFinish.FINISHED),
    ],
)
def test_finish(cell, expected):
    assert parse_finish(cell) == expected


def test_read_values_collects_one_reason_per_bad_cell():
    values, problems = read_values(
        {"name": "  龙华苑  二期 ", "households": "很多", "delivery_date": "明年", "lng": "123.9", "lat": "北边"}
    )
    assert values == {"name": "龙华苑 二期", "lng": 123.9}
    assert problems == {
        "households": "户数「很多」不是数字",
        "delivery_date": "交房时间「明年」无法识别",
        "lat": "纬度「北边」不是数字",
    }
    _values, problems = read_values({"name": "楼" * 101})
    assert problems == {"name": "楼盘名称超过 100 个字"}
