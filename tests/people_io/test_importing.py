"""The people import through its service: reading files, the mapping, matching within the dealer, applying."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.imports.parsing import read_table
from crm.org.models import User
from crm.people import importing
from crm.people.importing import RowStatus
from crm.people.models import Person
from tests.imports.files import csv_bytes, xlsx_bytes

HEADER = ["姓名", "手机号", "微信号", "楼盘", "楼栋", "单元", "房号", "户型", "标签", "备注", "推荐人"]


def _table(rows: list[list], extension: str = "csv", encoding: str = "utf-8"):
    data = xlsx_bytes(rows) if extension == "xlsx" else csv_bytes(rows, encoding=encoding)
    return read_table(data, extension)


def _viewer(world, role: Role = Role.DEALER_LEAD, dealer="a") -> User:
    return db.session.get(User, getattr(world, dealer).user_ids[role])


def _preview(world, table, mapping=None, role: Role = Role.DEALER_LEAD):
    mapping = importing.auto_mapping(table.headers) if mapping is None else mapping
    return importing.preview_people(db.session, world.a.dealer_id, table, mapping, _viewer(world, role))


def _apply(world, table, mapping=None):
    mapping = importing.auto_mapping(table.headers) if mapping is None else mapping
    result = importing.apply_people_import(db.session, world.a.dealer_id, table, mapping, _viewer(world))
    db.session.commit()
    return result


def _people(dealer_id: int) -> list[Person]:
    return db.session.scalars(sa.select(Person).where(Person.dealer_id == dealer_id).order_by(Person.id)).all()


def _rows(world) -> list[list]:
    return [
        HEADER,
        [
            "王女士",
            "139 0000 1111",
            "wang_home",
            world.a.estate_name,
            "3",
            "2",
            "1201",
            world.a.floor_plan_name,
            "宝妈、老用户",
            "想要原木风",
            "",
        ],
        ["李先生", "+86-13900002222", "", world.a.estate_name, "5", "1", "302", "", "", "", "13900001111"],
        ["只有微信", "", "wx_only", "", "", "", "", "", "", "", ""],
    ]


@pytest.mark.parametrize(
    ("extension", "encoding"),
    [("csv", "utf-8"), ("csv", "utf-8-sig"), ("csv", "gbk"), ("xlsx", "")],
    ids=["utf8", "utf8-bom", "gbk", "xlsx"],
)
def test_files_in_every_encoding_add_the_same_people(app, world, extension, encoding):
    with app.app_context():
        result = _apply(world, _table(_rows(world), extension, encoding))
        assert result.counts == {"added": 3, "updated": 0, "unchanged": 0, "rejected": 0}
        wang = db.session.scalar(sa.select(Person).where(Person.phone == "13900001111"))
        assert (wang.name, wang.wechat_id, wang.dealer_id) == ("王女士", "wang_home", world.a.dealer_id)
        assert (wang.estate_id, wang.building, wang.unit, wang.room) == (world.a.estate_id, "3", "2", "1201")
        assert wang.floor_plan_id == world.a.floor_plan_id
        assert wang.tags == ["宝妈", "老用户"] and wang.notes == "想要原木风"
        li = db.session.scalar(sa.select(Person).where(Person.phone == "13900002222"))
        assert li.referred_by_id == wang.id  # the referrer added earlier in the same file is found by phone
        assert db.session.scalar(sa.select(Person).where(Person.wechat_id == "wx_only")).phone == ""


def test_xlsx_numbers_and_placeholders(app, world):
    rows = [
        ["微信昵称", "电话", "小区", "楼号", "门牌", "风格", "预算", "装修时间", "来源", "备注"],
        ["小张", 13900003333, world.a.estate_name, 7, 501, "暂无", "不详", "2026年5月", "--", "-"],
    ]
    with app.app_context():
        table = _table(rows, "xlsx")
        mapping = importing.auto_mapping(table.headers)
        assert list(mapping.values()) == [
            "name",
            "phone",
            "estate",
            "building",
            "room",
            "needs_style",
            "needs_budget",
            "decoration_start",
            "source",
            "notes",
        ]
        _apply(world, table)
        person = db.session.scalar(sa.select(Person).where(Person.phone == "13900003333"))
        assert (person.building, person.room, person.decoration_start) == ("7", "501", date(2026, 5, 1))
        assert (person.needs_style, person.needs_budget, person.source, person.notes) == ("", "", "", "")


def test_english_headers_and_a_corrected_mapping(app, world):
    rows = [["联系人", "手机号码(必填)", "Wechat", "Tags"], ["赵六", "13900004444", "zhao6", "KOL/未知标签"]]
    with app.app_context():
        table = _table(rows)
        mapping = importing.auto_mapping(table.headers)
        assert mapping == {0: "", 1: "phone", 2: "wechat_id", 3: "tags"}
        preview = _preview(world, table, mapping)
        assert [row.reasons for row in preview.rows] == [["缺少姓名或昵称"]]

        corrected = importing.clean_mapping(
            {0: "name", 1: "phone", 2: "wechat_id", 3: "tags", 9: "name"}, table.headers
        )
        assert corrected == {0: "name", 1: "phone", 2: "wechat_id", 3: "tags"}
        preview = _preview(world, table, corrected)
        row = preview.rows[0]
        assert row.status is RowStatus.ADD and row.values["tags"] == ["KOL"]
        assert row.warnings == ["未识别的标签已忽略：未知标签"]


def test_a_mapping_needs_an_identifier_and_no_field_twice(app, world):
    with app.app_context():
        table = _table([["姓名", "备注", "说明"], ["甲", "x", "y"]])
        preview = _preview(world, table, {0: "name", 1: "notes", 2: "notes"})
        assert preview.problems == ["请指定哪一列是“手机号”或“微信号”", "“备注”只能对应一列"]
        assert not preview.rows and not preview.can_apply
        with pytest.raises(importing.PeopleImportError):
            importing.apply_people_import(db.session, world.a.dealer_id, table, {0: "name"}, _viewer(world))


def test_bad_rows_are_rejected_with_their_row_number_and_reason(app, world):
    rows = [
        ["姓名", "手机号", "微信号", "楼盘"],
        ["错号", "1380013", "", ""],
        ["没有联系方式", "", "", ""],
        ["外地楼盘", "13900005555", "", "乙方专属花园"],  # dealer B's estate is not this dealer's
        ["好人", "13900006666", "", "甲方专属 花园"],  # spelled with a space: still the dealer's estate
        ["同一人", "139-0000-6666", "", ""],
    ]
    with app.app_context():
        preview = _preview(world, _table(rows))
        by_row = {row.row_number: row for row in preview.rows}
        assert by_row[2].reasons == ["手机号格式不正确（应为 11 位手机号）"]
        assert by_row[3].reasons == ["缺少手机号和微信号"]
        assert by_row[4].reasons == ["楼盘「乙方专属花园」不在本经销商的楼盘列表中，请先添加楼盘或改正名称"]
        assert by_row[5].status is RowStatus.ADD and by_row[5].values["estate"].id == world.a.estate_id
        assert by_row[6].reasons == ["与第 5 行是同一人（手机号或微信号相同）"]
        assert preview.counts == {"added": 1, "updated": 0, "unchanged": 0, "rejected": 4}
        # No reason prints a number: even a wrong one is personal data.
        assert "1380013" not in " ".join(reason for row in preview.rows for reason in row.reasons)


def test_reimporting_the_same_file_changes_nothing(app, world):
    with app.app_context():
        table = _table(_rows(world), "xlsx")
        _apply(world, table)
        count = len(_people(world.a.dealer_id))
        preview = _preview(world, table)
        assert preview.counts == {"added": 0, "updated": 0, "unchanged": 3, "rejected": 0}
        assert not preview.can_apply
        _apply(world, table)
        assert len(_people(world.a.dealer_id)) == count


def test_an_update_shows_old_to_new_and_never_erases(app, world):
    with app.app_context():
        owner = db.session.get(Person, world.a.person_id)
        owner.wechat_id, owner.notes, owner.tags, owner.building = "old_wx", "老备注", ["粉丝"], "9"
        db.session.commit()
        rows = [
            ["姓名", "手机号", "微信号", "楼栋", "房号", "标签", "备注"],
            ["", world.a.person_phone, "", "", "1501", "宝妈", "暂无"],
        ]
        preview = _preview(world, _table(rows))
        row = preview.rows[0]
        assert row.status is RowStatus.UPDATE and row.person.id == world.a.person_id
        assert [(c.label, c.old, c.new) for c in row.changes] == [("房号", "—", "1501"), ("标签", "粉丝", "粉丝、宝妈")]
        _apply(world, _table(rows))
        db.session.expire_all()
        owner = db.session.get(Person, world.a.person_id)
        assert (owner.name, owner.wechat_id, owner.notes, owner.building, owner.room) == (
            "甲方专属业主",
            "old_wx",
            "老备注",
            "9",
            "1501",
        )
        assert owner.tags == ["粉丝", "宝妈"]


def test_matching_falls_back_to_the_wechat_id(app, world):
    with app.app_context():
        owner = db.session.get(Person, world.a.person_id)
        owner.wechat_id = "owner_wx"
        db.session.commit()
        rows = [["姓名", "手机号", "微信号"], ["新名字", "13900007777", "owner_wx"]]
        row = _preview(world, _table(rows)).rows[0]
        assert row.status is RowStatus.UPDATE and row.person.id == world.a.person_id
        assert {c.field for c in row.changes} == {"name", "phone"}


def test_another_dealers_person_with_the_same_phone_is_not_matched(app, world):
    """Outside a request nothing is scoped: the matching's own dealer filter is what keeps B's people out."""
    with app.app_context():
        rows = [["姓名", "手机号"], ["乙方的人", world.b.person_phone]]
        preview = _preview(world, _table(rows))
        assert preview.rows[0].status is RowStatus.ADD and preview.rows[0].person is None
        _apply(world, _table(rows))
        mine = [p for p in _people(world.a.dealer_id) if p.phone == world.b.person_phone]
        assert len(mine) == 1 and mine[0].name == "乙方的人"
        theirs = db.session.get(Person, world.b.person_id)
        assert (theirs.name, theirs.dealer_id) == (world.b.person_name, world.b.dealer_id)


def test_apply_is_all_or_nothing(app, world, monkeypatch):
    with app.app_context():
        before = len(_people(world.a.dealer_id))
        real_write, written = importing._write, []

        def failing_write(person, values):
            written.append(person)
            if len(written) == 2:
                raise RuntimeError("disk full")
            real_write(person, values)

        monkeypatch.setattr(importing, "_write", failing_write)
        with pytest.raises(RuntimeError):
            importing.apply_people_import(
                db.session, world.a.dealer_id, _table(_rows(world)), importing.auto_mapping(HEADER), _viewer(world)
            )
        db.session.rollback()
        assert len(_people(world.a.dealer_id)) == before


def test_new_numbers_are_masked_for_an_operator(app, world):
    with app.app_context():
        rows = [
            ["姓名", "手机号", "推荐人"],
            ["新人", "13900008888", "13900009999"],
            ["业主", world.a.person_phone, ""],
        ]
        preview = _preview(world, _table(rows), role=Role.OPERATOR)
        assert preview.rows[0].phone_shown == "139****8888"
        assert preview.rows[0].warnings == ["推荐人「139****9999」未找到，已忽略"]
        assert preview.rows[1].phone_shown == "138****8001"  # the owner is not assigned to this operator
        assert preview.columns[1].samples == ["139****8888", "138****8001"]
        lead = _preview(world, _table(rows), role=Role.DEALER_LEAD)
        assert lead.rows[0].phone_shown == "13900008888" and lead.columns[1].samples[0] == "13900008888"


def test_a_referrer_that_would_loop_is_ignored(app, world):
    with app.app_context():
        db.session.add(
            Person(dealer_id=world.a.dealer_id, name="被推荐", phone="13900003030", referred_by_id=world.a.person_id)
        )
        db.session.commit()
        rows = [["姓名", "手机号", "推荐人"], ["", world.a.person_phone, "13900003030"]]
        row = _preview(world, _table(rows)).rows[0]
        assert row.status is RowStatus.UNCHANGED
        assert row.warnings == ["推荐人「被推荐」会形成推荐循环，已忽略"]


def test_referrer_by_name_and_floor_plan_warnings(app, world):
    with app.app_context():
        rows = [
            ["姓名", "手机号", "户型", "推荐人"],
            ["甲", "13900001010", "不存在的户型", world.a.person_name],
            ["乙", "13900002020", "", "查无此人"],
        ]
        first, second = _preview(world, _table(rows)).rows
        assert first.values["referred_by"].id == world.a.person_id
        assert first.warnings == ["户型「不存在的户型」不在该楼盘的户型中，已忽略"]
        assert second.warnings == ["推荐人「查无此人」未找到，已忽略"]


def test_referrals_that_loop_within_the_file_are_dropped_not_crashed(app, world):
    """甲 names 乙 and 乙 names 甲 (new rows, and a new row naming an existing person who names it back)."""
    with app.app_context():
        rows = [
            ["姓名", "手机号", "楼盘", "推荐人"],
            ["循环甲", "13900004040", world.a.estate_name, "13900005050"],
            ["循环乙", "13900005050", world.a.estate_name, "13900004040"],
        ]
        preview = _preview(world, _table(rows))
        assert any("会形成推荐循环" in w for r in preview.rows for w in r.warnings)
        _apply(world, _table(rows))
        people = {p.name: p for p in _people(world.a.dealer_id)}
        first, second = people["循环甲"], people["循环乙"]
        assert not (first.referred_by_id == second.id and second.referred_by_id == first.id)
