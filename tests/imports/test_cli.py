"""`flask crm import-estates`: the same preview for HQ and scripts; --dry-run writes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from crm.estates.models import Estate
from crm.extensions import db
from crm.imports.models import EstateImport
from tests.imports.files import HEADER, csv_bytes


def _state(app, upload_folder):
    with app.app_context():
        estates = {e.name: e.households for e in db.session.scalars(sa.select(Estate))}
        imports = db.session.scalar(sa.select(sa.func.count(EstateImport.id)))
    return estates, imports, sorted(upload_folder.rglob("*"))


def _file(tmp_path, world):
    rows = [
        HEADER,
        ["命令行花园", "龙沙区", "600", "2026-06", "", "123.96", "47.34"],
        [world.a.estate_name, "", "1,500户", "", "", "", ""],
        ["坏户数花园", "", "很多", "", "", "", ""],
    ]
    path = tmp_path / "楼盘表.csv"
    path.write_bytes(csv_bytes(rows, encoding="gbk"))
    return path


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["crm", "import-estates", *map(str, args)])


def test_dry_run_prints_the_report_and_writes_nothing(app, world, tmp_path, upload_folder):
    path = _file(tmp_path, world)
    before = _state(app, upload_folder)
    result = _run(app, path, "--dealer", "aaa", "--city", "齐齐哈尔", "--coords", "bd09", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "新增 1 · 更新 1 · 不变 0 · 有问题 1" in lines
    assert f"  第 3 行 {world.a.estate_name}：户数 1,200 → 1,500" in lines
    assert "  第 4 行 坏户数花园：户数「很多」不是数字" in lines
    assert "小区名称 → name" in result.output
    assert "dry run, nothing written" in lines[-1]
    assert _state(app, upload_folder) == before


def test_apply_writes_commits_and_records_the_import(app, world, tmp_path):
    path = _file(tmp_path, world)
    result = _run(app, path, "--dealer", "AAA", "--city", "黑龙江省/齐齐哈尔", "--coords", "bd09")
    assert result.exit_code == 0, result.output
    assert "新增 1 · 更新 1 · 不变 0 · 有问题 1" in result.output and "applied" in result.output
    with app.app_context():
        estate = db.session.scalars(sa.select(Estate).where(Estate.name == "命令行花园")).one()
        assert estate.dealer_id == world.a.dealer_id and estate.coord_system.value == "bd09"
        assert estate.lng < 123.96 - 0.005  # BD-09 converted back to WGS-84
        assert db.session.get(Estate, world.a.estate_id).households == 1500
        record = db.session.scalars(sa.select(EstateImport).where(EstateImport.applied_at.is_not(None))).one()
        assert record.original_filename == "楼盘表.csv" and record.created_by_id is None
        assert record.summary == {"added": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    again = _run(app, path, "--dealer", "AAA", "--city", "齐齐哈尔", "--coords", "bd09", "--dry-run")
    assert "新增 0 · 更新 0 · 不变 2 · 有问题 1" in again.output


def test_unknown_dealer_city_or_unusable_file_is_refused_in_chinese(app, world, tmp_path, upload_folder):
    path = _file(tmp_path, world)
    before = _state(app, upload_folder)
    unknown_dealer = _run(app, path, "--dealer", "NOPE", "--city", "齐齐哈尔", "--coords", "wgs84")
    assert unknown_dealer.exit_code != 0 and "经销商编码不存在" in unknown_dealer.output
    unknown_city = _run(app, path, "--dealer", "AAA", "--city", "火星", "--coords", "wgs84")
    assert unknown_city.exit_code != 0 and "城市不存在" in unknown_city.output
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    for extra in ([], ["--dry-run"]):
        bad_file = _run(app, text, "--dealer", "AAA", "--city", "齐齐哈尔", "--coords", "wgs84", *extra)
        assert bad_file.exit_code != 0 and "只能导入 .xlsx 或 .csv 文件" in bad_file.output
    no_name = tmp_path / "no-name.csv"
    no_name.write_bytes(csv_bytes([["编号", "户数"], ["1", "100"]]))
    for extra in ([], ["--dry-run"]):
        result = _run(app, no_name, "--dealer", "AAA", "--city", "齐齐哈尔", "--coords", "wgs84", *extra)
        assert result.exit_code != 0 and "请指定哪一列是“楼盘名称”" in result.output
    assert _state(app, upload_folder) == before
