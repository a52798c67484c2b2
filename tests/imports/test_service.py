"""Preview and apply, through the service: matching, bad rows, coordinates, idempotence, atomicity."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from crm.core.validation import FieldError
from crm.estates.models import Estate, EstateFinish, EstateStage
from crm.extensions import db
from crm.imports import service
from crm.imports.models import EstateImport
from crm.imports.service import ImportApplyError, RowStatus
from crm.maps.coords import distance_m, from_wgs84
from tests.factories import make_estate_import
from tests.imports.files import HEADER, csv_bytes, xlsx_bytes

QQHR = "齐齐哈尔"


def _upload(app, world, data: bytes, *, filename="楼盘表.csv", coord_system="wgs84", city=QQHR) -> int:
    with app.app_context():
        estate_import = make_estate_import(
            db.session,
            world.a.dealer_id,
            world.city_ids[city],
            data=data,
            filename=filename,
            coord_system=coord_system,
        )
        db.session.commit()
        return estate_import.id


def _preview(import_id: int) -> service.ImportPreview:
    return service.preview_import(db.session, db.session.get(EstateImport, import_id))


def _apply(import_id: int) -> service.ImportPreview:
    preview = service.apply_import(db.session, db.session.get(EstateImport, import_id))
    db.session.commit()
    return preview


def _estate(name: str) -> Estate:
    return db.session.scalars(sa.select(Estate).where(Estate.name == name)).one()


def _estate_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Estate.id)))


def test_new_rows_are_added_with_every_mapped_fact(app, world):
    header = ["小区名称", "区域", "地址", "户数", "交房时间", "均价(元/㎡)", "开发商", "经度", "纬度"]
    header += ["装修", "竞品", "备注", "来源"]
    row = ["龙华苑", "铁锋区", "龙华路 8 号", "约1,200户", "2025年第二季度", "1.2万", "万达集团", "123.95", "47.33"]
    row += ["精装修", "索菲亚、欧派", "东门有快递柜", "房天下"]
    import_id = _upload(app, world, csv_bytes([header, row]))
    with app.app_context():
        preview = _apply(import_id)
        assert preview.counts == {"added": 1, "updated": 0, "unchanged": 0, "rejected": 0}
        estate = _estate("龙华苑")
        assert estate.dealer_id == world.a.dealer_id and estate.city_id == world.city_ids[QQHR]
        assert (estate.district, estate.address, estate.households) == ("铁锋区", "龙华路 8 号", 1200)
        assert (estate.delivery_date, estate.avg_price, estate.developer) == (date(2025, 4, 1), 12000, "万达集团")
        assert (estate.finish, estate.competitor_names) == (EstateFinish.FINISHED, ["索菲亚", "欧派"])
        assert (estate.notes, estate.source, estate.stage) == ("东门有快递柜", "房天下", EstateStage.UNPLANNED)
        assert (estate.lng, estate.lat) == (123.95, 47.33)
        estate_import = db.session.get(EstateImport, import_id)
        assert estate_import.applied_at is not None
        assert estate_import.summary == {"added": 1, "updated": 0, "unchanged": 0, "rejected": 0}


def test_placeholder_cells_are_empty_not_errors(app, world):
    rows = [
        ["小区名称", "区域", "户数", "交房时间", "均价", "开发商", "经度", "纬度", "装修", "备注"],
        ["暂无资料花园", "暂无资料", "暂无", "待定", "--", "不详", "-", "—", "未知", "无"],
        ["空白花园", "N/A", "null", "空", "", "", "", "", "", ""],
    ]
    import_id = _upload(app, world, csv_bytes(rows))
    with app.app_context():
        preview = _preview(import_id)
        assert [row.status for row in preview.rows] == [RowStatus.ADD, RowStatus.ADD]
        assert preview.rows[0].values == {"name": "暂无资料花园"}
        _apply(import_id)
        estate = _estate("暂无资料花园")
        assert (estate.district, estate.households, estate.delivery_date, estate.avg_price) == ("", None, None, None)
        assert (estate.developer, estate.finish, estate.notes, estate.has_position) == ("", None, "", False)


def test_each_kind_of_bad_row_is_rejected_with_its_reason_and_row_number(app, world):
    rows = [
        HEADER,
        ["好花园", "龙沙区", "800", "2026-05", "7000", "123.95", "47.33"],  # row 2: the only good one
        ["", "龙沙区", "800", "", "", "", ""],  # 3
        ["巴黎花园", "", "", "", "", "2.35", "48.85"],  # 4: outside China
        ["北京花园", "", "", "", "", "116.40", "39.90"],  # 5: in China, ~1,000 km from 齐齐哈尔
        ["很多花园", "", "很多", "", "", "", ""],  # 6
        ["半坐标花园", "", "", "", "", "123.95", ""],  # 7
        ["明年花园", "", "", "明年五月", "", "", ""],  # 8
        [" 好 花园 ", "", "900", "", "", "", ""],  # 9: the same estate as row 2
        ["--", "", "900", "", "", "", ""],  # 10: a placeholder is no name
    ]
    import_id = _upload(app, world, csv_bytes(rows, encoding="gbk"))
    with app.app_context():
        before = _estate_count()
        preview = _preview(import_id)
        assert preview.counts == {"added": 1, "updated": 0, "unchanged": 0, "rejected": 8}
        reasons = {row.row_number: row.reasons for row in preview.rows_with(RowStatus.REJECTED)}
        assert reasons[3] == ["缺少楼盘名称"]
        assert reasons[4] == ["坐标（2.35, 48.85）不在中国境内"]
        assert len(reasons[5]) == 1 and reasons[5][0].startswith("坐标距齐齐哈尔市中心 ")
        assert "公里，超过 80 公里" in reasons[5][0]
        km = float(reasons[5][0].removeprefix("坐标距齐齐哈尔市中心 ").split(" ")[0])
        assert 950 < km < 1150
        assert reasons[6] == ["户数「很多」不是数字"]
        assert reasons[7] == ["经度和纬度需要同时填写"]
        assert reasons[8] == ["交房时间「明年五月」无法识别"]
        assert reasons[9] == ["与第 2 行的楼盘重名"]
        assert reasons[10] == ["缺少楼盘名称"]
        _apply(import_id)
        assert _estate_count() == before + 1
        assert _estate("好花园").households == 800
        assert db.session.get(EstateImport, import_id).summary["rejected"] == 8


def test_a_city_far_from_the_coordinates_is_caught(app, world):
    """The right coordinates in the wrong city: 齐齐哈尔 points uploaded as 长春 (~450 km away)."""
    import_id = _upload(app, world, csv_bytes([HEADER, ["龙华苑", "", "", "", "", "123.95", "47.33"]]), city="长春")
    with app.app_context():
        (row,) = _preview(import_id).rows
        assert row.status is RowStatus.REJECTED
        assert row.reasons[0].startswith("坐标距长春市中心 ")


def test_english_headers_and_a_lnglat_column(app, world):
    rows = [
        ["Name", "District", "Households", "Delivery", "Price", "Developer", "经纬度"],
        ["Sunny Garden", "Longsha", "1,000", "2025Q3", "9000 元/㎡", "ACME", "123.9500,47.3300"],
        ["Swapped Garden", "Longsha", "600", "2025-09", "", "", "47.3400, 123.9600"],
    ]
    import_id = _upload(app, world, csv_bytes(rows, encoding="utf-8-sig"))
    with app.app_context():
        estate_import = db.session.get(EstateImport, import_id)
        assert estate_import.column_mapping == {
            "Name": "name",
            "District": "district",
            "Households": "households",
            "Delivery": "delivery_date",
            "Price": "avg_price",
            "Developer": "developer",
            "经纬度": "lnglat",
        }
        preview = _apply(import_id)
        assert preview.counts["added"] == 2
        sunny, swapped = _estate("Sunny Garden"), _estate("Swapped Garden")
        assert (sunny.lng, sunny.lat, sunny.delivery_date, sunny.avg_price) == (123.95, 47.33, date(2025, 7, 1), 9000)
        assert (swapped.lng, swapped.lat) == (123.96, 47.34)


def test_xlsx_with_numbers_and_excel_dates(app, world):
    from datetime import datetime

    rows = [HEADER, ["表格花园", "建华区", 1500, datetime(2026, 3, 1), 8800, 123.95, 47.33]]
    import_id = _upload(app, world, xlsx_bytes(rows, blank_rows_before=1), filename="楼盘.xlsx")
    with app.app_context():
        (row,) = _preview(import_id).rows
        assert (row.row_number, row.status) == (3, RowStatus.ADD)
        _apply(import_id)
        estate = _estate("表格花园")
        assert (estate.households, estate.delivery_date, estate.avg_price) == (1500, date(2026, 3, 1), 8800)


def test_a_user_corrected_mapping(app, world):
    rows = [["编号", "盘名", "套数", "说明"], ["A01", "江畔人家", "640", "靠江"], ["A02", "湖滨苑", "320", ""]]
    import_id = _upload(app, world, csv_bytes(rows))
    with app.app_context():
        preview = _preview(import_id)
        assert preview.problems == ["请指定哪一列是“楼盘名称”"] and preview.rows == []
        assert [column.field for column in preview.columns] == ["", "", "", ""]
        assert preview.columns[1].samples == ["江畔人家", "湖滨苑"]
        estate_import = db.session.get(EstateImport, import_id)
        preview = service.remap_import(db.session, estate_import, {1: "name", 2: "households", 3: "bogus"}, "gcj02")
        db.session.commit()
        assert preview.problems == [] and preview.counts["added"] == 2
        assert estate_import.column_mapping == {"编号": "", "盘名": "name", "套数": "households", "说明": ""}
        assert estate_import.coord_system.value == "gcj02"
        # Two columns for one field cannot be imported.
        preview = service.remap_import(db.session, estate_import, {0: "name", 1: "name"}, "gcj02")
        assert preview.problems == ["“楼盘名称”只能对应一列"]
        with pytest.raises(ImportApplyError, match="只能对应一列"):
            service.apply_import(db.session, estate_import)
        db.session.rollback()
        service.remap_import(db.session, estate_import, {1: "name", 2: "households"}, "gcj02")
        db.session.commit()
        _apply(import_id)
        assert _estate("江畔人家").households == 640


@pytest.mark.parametrize("system, expected_km", [("bd09", 1.35), ("gcj02", 0.55)])
def test_bd09_and_gcj02_are_stored_as_wgs84(app, world, system, expected_km):
    typed = (123.96, 47.34)
    rows = [HEADER, ["坐标花园", "", "", "", "", str(typed[0]), str(typed[1])]]
    import_id = _upload(app, world, csv_bytes(rows), coord_system=system)
    with app.app_context():
        _apply(import_id)
        estate = _estate("坐标花园")
        assert estate.coord_system.value == system
        moved_km = distance_m(*typed, estate.lng, estate.lat) / 1000
        assert abs(moved_km - expected_km) < 0.1, moved_km
        assert distance_m(*from_wgs84(estate.lng, estate.lat, system), *typed) < 1


def test_reimporting_the_same_file_changes_nothing(app, world):
    rows = [
        HEADER,
        ["一号院", "龙沙区", "1200", "2025-06", "8000", "123.951234", "47.331234"],
        ["二号院", "建华区", "暂无", "2025年", "", "", ""],
        [world.a.estate_name, "测试区", "1200", "", "", "", ""],
    ]
    data = csv_bytes(rows, encoding="gbk")
    first = _upload(app, world, data, coord_system="bd09")
    with app.app_context():
        assert _preview(first).counts == {"added": 2, "updated": 0, "unchanged": 1, "rejected": 0}
        _apply(first)
        count = _estate_count()
        updated_at = _estate("一号院").updated_at
    second = _upload(app, world, data, coord_system="bd09")
    with app.app_context():
        preview = _preview(second)
        assert preview.counts == {"added": 0, "updated": 0, "unchanged": 3, "rejected": 0}
        _apply(second)
        assert _estate_count() == count
        assert _estate("一号院").updated_at == updated_at


def test_an_updated_file_updates_rows_and_never_duplicates_them(app, world):
    first = _upload(app, world, csv_bytes([HEADER, ["一号院", "龙沙区", "1200", "2025-06", "8000", "", ""]]))
    with app.app_context():
        _apply(first)
        count = _estate_count()
    rows = [HEADER, ["一 号 院", "龙沙区", "1,350户", "2025-09", "8000", "123.95", "47.33"]]
    second = _upload(app, world, csv_bytes(rows))
    with app.app_context():
        preview = _preview(second)
        (row,) = preview.rows
        assert row.status is RowStatus.UPDATE
        assert [(c.label, c.old, c.new) for c in row.changes] == [
            ("户数", "1,200", "1,350"),
            ("交房时间", "2025-06", "2025-09"),
            ("位置", "—", "123.950000, 47.330000"),
        ]
        _apply(second)
        assert _estate_count() == count
        estate = _estate("一号院")  # the name as first typed is kept
        assert (estate.households, estate.delivery_date, estate.lng) == (1350, date(2025, 9, 1), 123.95)
        assert db.session.get(EstateImport, second).summary["updated"] == 1


def test_empty_cells_never_erase_and_the_stage_is_never_touched(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        before = (estate.district, estate.households, estate.lng, estate.lat, estate.coord_system)
        assert estate.stage is EstateStage.TARGET
    rows = [HEADER, [world.a.estate_name, "", "暂无", "", "9,000元/㎡", "", ""]]
    import_id = _upload(app, world, csv_bytes(rows), coord_system="bd09")
    with app.app_context():
        (row,) = _preview(import_id).rows
        assert [(c.field, c.new) for c in row.changes] == [("avg_price", "9,000 元/㎡")]
        _apply(import_id)
        estate = db.session.get(Estate, world.a.estate_id)
        assert estate.avg_price == 9000
        assert (estate.district, estate.households, estate.lng, estate.lat, estate.coord_system) == before
        assert estate.stage is EstateStage.TARGET


def test_an_import_matches_only_its_own_city_and_dealer(app, world):
    """Dealer B's estate in 长春 and dealer A's own estate in 齐齐哈尔 are not what A's 长春 list updates."""
    rows = [HEADER, [world.b.estate_name, "", "10", "", "", "", ""], [world.a.estate_name, "", "20", "", "", "", ""]]
    import_id = _upload(app, world, csv_bytes(rows), city="长春")
    with app.app_context():
        assert _preview(import_id).counts["added"] == 2
        _apply(import_id)
        assert db.session.get(Estate, world.b.estate_id).households == 1200
        assert db.session.get(Estate, world.a.estate_id).households == 1200


def test_apply_is_all_or_nothing(app, world, monkeypatch):
    rows = [
        HEADER,
        [world.a.estate_name, "", "1500", "", "", "", ""],  # an update, written first
        ["先写入花园", "", "100", "", "", "", ""],  # an add that succeeds
        ["失败花园", "", "200", "", "", "", ""],  # an add the service refuses
    ]
    import_id = _upload(app, world, csv_bytes(rows))
    real_create = service.create_estate

    def create_then_fail(session, dealer_id, data):
        if data.name == "失败花园":
            raise FieldError("name", "模拟的失败")
        return real_create(session, dealer_id, data)

    monkeypatch.setattr(service, "create_estate", create_then_fail)
    with app.app_context():
        before = _estate_count()
        with pytest.raises(ImportApplyError, match="第 4 行（失败花园）：模拟的失败"):
            service.apply_import(db.session, db.session.get(EstateImport, import_id))
        db.session.rollback()
    with app.app_context():
        assert _estate_count() == before
        assert db.session.get(Estate, world.a.estate_id).households == 1200
        assert db.session.scalars(sa.select(Estate).where(Estate.name == "先写入花园")).first() is None
        estate_import = db.session.get(EstateImport, import_id)
        assert estate_import.applied_at is None and estate_import.summary == {}


def test_an_import_is_applied_once(app, world):
    import_id = _upload(app, world, csv_bytes([HEADER, ["一号院", "", "", "", "", "", ""]]))
    with app.app_context():
        _apply(import_id)
        estate_import = db.session.get(EstateImport, import_id)
        with pytest.raises(ImportApplyError, match="已经导入过了"):
            service.apply_import(db.session, estate_import)
        with pytest.raises(FieldError, match="不能再修改"):
            service.remap_import(db.session, estate_import, {0: "name"}, "wgs84")


def test_a_missing_stored_file_is_a_problem_not_a_crash(app, world, upload_folder):
    import_id = _upload(app, world, csv_bytes([HEADER, ["一号院", "", "", "", "", "", ""]]))
    with app.app_context():
        (upload_folder / db.session.get(EstateImport, import_id).stored_path).unlink()
        assert _preview(import_id).problems == ["找不到上传的文件，请重新上传"]
        with pytest.raises(ImportApplyError, match="找不到上传的文件"):
            service.apply_import(db.session, db.session.get(EstateImport, import_id))


def test_upload_refuses_unusable_files_and_stores_nothing(app, world, upload_folder):
    with app.app_context():
        imports_before = db.session.scalar(sa.select(sa.func.count(EstateImport.id)))
        files_before = sorted((upload_folder / "imports").rglob("*"))
        for filename, data in [("a.txt", b"x"), ("a.csv", b""), ("a.xlsx", b"broken")]:
            with pytest.raises(FieldError) as error:
                make_estate_import(db.session, world.a.dealer_id, world.city_ids[QQHR], data=data, filename=filename)
            assert error.value.field == "file"
        with pytest.raises(FieldError, match="请选择城市"):
            make_estate_import(db.session, world.a.dealer_id, 999_999, data=csv_bytes([HEADER]))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(EstateImport.id))) == imports_before
        assert sorted((upload_folder / "imports").rglob("*")) == files_before


def test_upload_stores_the_file_under_the_dealer(app, world, upload_folder):
    data = csv_bytes([HEADER, ["一号院", "", "", "", "", "", ""]], encoding="gbk")
    import_id = _upload(app, world, data, filename=r"C:\桌面\楼盘表.CSV")
    with app.app_context():
        estate_import = db.session.get(EstateImport, import_id)
        assert estate_import.original_filename == "楼盘表.CSV"
        assert estate_import.stored_path.startswith(f"imports/{world.a.dealer_id}/")
        assert estate_import.stored_path.endswith(".csv")
        assert (upload_folder / estate_import.stored_path).read_bytes() == data


def test_report_lines(app, world):
    rows = [HEADER, [world.a.estate_name, "", "1500", "", "", "", ""], ["", "", "1", "", "", "", ""]]
    import_id = _upload(app, world, csv_bytes(rows))
    with app.app_context():
        lines = service.report_lines(_preview(import_id))
    assert lines == [
        "新增 0 · 更新 1 · 不变 0 · 有问题 1",
        "将更新：",
        f"  第 2 行 {world.a.estate_name}：户数 1,200 → 1,500",
        "有问题的行（不会导入）：",
        "  第 3 行 —：缺少楼盘名称",
    ]
