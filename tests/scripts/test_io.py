"""A playbook as an .xlsx: what a store sees in the exported file, and what an edited copy imports as."""

from __future__ import annotations

import copy
import io
from datetime import time

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from crm.imports.parsing import MAX_FILE_BYTES
from crm.scripts.io import ParsedPlaybook, PlaybookFileError, export_xlsx, parse_xlsx

NAME = "新楼盘30天暖群剧本"
DESCRIPTION = "适合刚交房的楼盘。\n第二行说明：先铺垫，再爆发。"


def _item(key, time_, slot, role, kind, text, intent="", images=None):
    return {"key": key, "time": time_, "slot": slot, "role": role, "kind": kind, "text": text,
            "intent": intent, "images": images or []}  # fmt: skip


CONTENT = {
    "phases": [
        {
            "key": "p1",
            "name": "铺垫期",
            "goal": "让{楼盘}的业主认识{主IP}，建立信任",
            "days": [
                {
                    "items": [
                        _item(
                            "a1",
                            "09:00",
                            "早间巡查",
                            "main_ip",
                            "welcome",
                            "欢迎{楼盘}的邻居们入群！我是{主IP}，以后装修的事都可以问我。",
                            "先让大家记住主IP",
                            ["playbooks/3/welcome.jpg"],
                        ),  # fmt: skip
                        _item("a2", "12:00", "午间活跃", "helper", "topic", "有人知道{交房时间}具体是哪天吗？"),
                        _item(
                            "a3",
                            "19:30",
                            "晚间活动",
                            "designer",
                            "value",
                            "=装修前先做这三件事：\n1. 量房\n2. 定预算\n3. 选风格",
                            "用干货建立专业感",
                        ),  # fmt: skip
                    ]
                },
                {"items": []},
                {"items": [_item("a4", "21:00", "夜间值守", "service", "reply", "{门店}明天9点开门：{门店地址}")]},
            ],
        },
        {
            "key": "p2",
            "name": "爆发期",
            "goal": "",
            "days": [{"items": [_item("b1", "20:00", "晚间活动", "main_ip", "red_packet", "今晚8点{群主}发红包！")]}],
        },
    ],
    "templates": [
        {"key": "welcome", "name": "入群欢迎语", "text": "欢迎新邻居加入{群名}！\n请先看群公告。"},
        {"key": "rules", "name": "群公告/群规", "text": "1. 不发广告\n2. 文明交流"},
    ],
}


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def _comparable(content: dict) -> dict:
    """Content without keys and images: what an .xlsx round trip must keep."""
    content = copy.deepcopy(content)
    for phase in content["phases"]:
        phase.pop("key")
        for day in phase["days"]:
            for item in day["items"]:
                item.pop("key")
                item.pop("images")
    for template in content["templates"]:
        template.pop("key")
    return content


def _exported() -> bytes:
    return export_xlsx(NAME, DESCRIPTION, CONTENT, "第 3 版 · 2025-03-01 发布")


def _edited(edit) -> bytes:
    """The exported file after a person changed it in Excel (`edit` gets the workbook)."""
    workbook = load_workbook(io.BytesIO(_exported()))
    edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _problems(data: bytes) -> list[str]:
    with pytest.raises(PlaybookFileError) as raised:
        parse_xlsx(data)
    assert raised.value.problems, "an error must say what is wrong"
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


# ---- export ------------------------------------------------------------------------------------


def test_round_trip_keeps_everything_but_keys_and_images(ctx):
    parsed = parse_xlsx(_exported())
    assert isinstance(parsed, ParsedPlaybook)
    assert parsed.name == NAME
    assert parsed.description == DESCRIPTION
    assert _comparable(parsed.content) == _comparable(CONTENT)
    assert parsed.content["phases"][0]["days"][1] == {"items": []}  # the day without items survives
    items = [item for phase in parsed.content["phases"] for day in phase["days"] for item in day["items"]]
    assert all(item["images"] == [] for item in items)
    keys = [phase["key"] for phase in parsed.content["phases"]] + [item["key"] for item in items]
    assert len(set(keys)) == len(keys) and "a1" not in keys  # fresh keys
    assert [template["key"] for template in parsed.content["templates"]] == ["welcome", "rules"]


def test_sheets_show_labels_in_phase_day_time_order(ctx):
    shuffled = copy.deepcopy(CONTENT)
    shuffled["phases"][0]["days"][0]["items"].reverse()
    workbook = load_workbook(io.BytesIO(export_xlsx(NAME, DESCRIPTION, shuffled, "第 3 版")))
    assert workbook.sheetnames == ["说明", "阶段", "脚本", "常用文案"]

    guide = workbook["说明"]
    assert [guide["A1"].value, guide["B1"].value] == ["剧本名称", NAME]
    assert guide["B3"].value == "第 3 版"
    guide_text = "\n".join(str(cell.value) for row in guide.iter_rows() for cell in row if cell.value)
    for hint in ("主IP、马甲、客服 或 设计师", "互动游戏", "09:00", "{楼盘}", "图片不会导出"):
        assert hint in guide_text, hint

    phases = workbook["阶段"]
    assert [cell.value for cell in phases[1]] == ["序号", "阶段", "目标", "天数"]
    assert [cell.value for cell in phases[2]] == [1, "铺垫期", "让{楼盘}的业主认识{主IP}，建立信任", 3]
    assert [cell.value for cell in phases[3]][:2] == [2, "爆发期"] and phases["D3"].value == 1

    script = workbook["脚本"]
    assert [cell.value for cell in script[1]] == ["阶段", "第几天", "时间", "时段", "角色", "类型", "内容", "意图说明"]
    assert script["A1"].font.bold and script.freeze_panes == "A2"
    assert script["G2"].alignment.wrap_text and script.column_dimensions["G"].width >= 40
    rows = [[cell.value for cell in row] for row in script.iter_rows(min_row=2)]
    assert [row[:6] for row in rows] == [
        ["铺垫期", 1, "09:00", "早间巡查", "主IP", "欢迎新人"],
        ["铺垫期", 1, "12:00", "午间活跃", "马甲", "话题"],
        ["铺垫期", 1, "19:30", "晚间活动", "设计师", "价值内容"],
        ["铺垫期", 3, "21:00", "夜间值守", "客服", "答疑回复"],
        ["爆发期", 1, "20:00", "晚间活动", "主IP", "红包"],
    ]
    assert rows[0][6] == "欢迎{楼盘}的邻居们入群！我是{主IP}，以后装修的事都可以问我。"
    assert script["G4"].data_type == "s"  # "=装修前…" is text, not a formula Excel would evaluate

    templates = workbook["常用文案"]
    assert [[cell.value for cell in row] for row in templates.iter_rows()] == [
        ["名称", "内容"],
        ["入群欢迎语", "欢迎新邻居加入{群名}！\n请先看群公告。"],
        ["群公告/群规", "1. 不发广告\n2. 文明交流"],
    ]


def test_a_file_exported_in_english_imports_in_chinese(ctx):
    with force_locale("en"):
        data = _exported()
    english = load_workbook(io.BytesIO(data))
    assert "主IP" not in [cell.value for cell in english.worksheets[2]["E"]]  # the labels really were English
    parsed = parse_xlsx(data)
    assert _comparable(parsed.content) == _comparable(CONTENT)


# ---- import: what a person typed ---------------------------------------------------------------


def test_times_roles_kinds_as_people_type_them(ctx):
    def edit(workbook):
        script = workbook["脚本"]
        script["C2"] = "9:05"
        script["C3"] = time(12, 30)
        script["C3"].number_format = "h:mm"
        script["C4"] = 0.8125  # 19:30 as Excel stores a time
        script["C5"] = " 21：00 "  # a full-width colon from a Chinese keyboard
        script["E2"] = "main_ip"
        script["F2"] = "welcome"
        script["E3"] = " 马甲 "
        script["D3"] = None  # no slot: the timetable names it
        script.insert_rows(4)  # a blank row in the middle is skipped

    parsed = parse_xlsx(_edited(edit))
    first_day = parsed.content["phases"][0]["days"][0]["items"]
    assert [item["time"] for item in first_day] == ["09:05", "12:30", "19:30"]
    assert [item["role"] for item in first_day] == ["main_ip", "helper", "designer"]
    assert first_day[0]["kind"] == "welcome"
    assert first_day[1]["slot"] == "午间活跃"
    assert parsed.content["phases"][0]["days"][2]["items"][0]["time"] == "21:00"


def test_a_new_row_lands_in_its_day_in_time_order(ctx):
    def edit(workbook):
        workbook["脚本"].append(["铺垫期", 2, "10:00", "", "客服", "政策", "本周{楼盘}业主专享8折", ""])
        workbook["脚本"].append(["铺垫期", 1, "08:00", "", "主IP", "群公告", "早上好！", ""])

    phases = parse_xlsx(_edited(edit)).content["phases"]
    assert [item["text"] for item in phases[0]["days"][1]["items"]] == ["本周{楼盘}业主专享8折"]
    assert phases[0]["days"][1]["items"][0]["slot"] == "早间巡查"
    assert [item["time"] for item in phases[0]["days"][0]["items"]] == ["08:00", "09:00", "12:00", "19:30"]


def test_phases_follow_their_number(ctx):
    def edit(workbook):
        workbook["阶段"]["A2"] = 2
        workbook["阶段"]["A3"] = 1

    assert [phase["name"] for phase in parse_xlsx(_edited(edit)).content["phases"]] == ["爆发期", "铺垫期"]


# ---- import: problems --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value", "problem"),
    [
        ("E3", "主播", "脚本 第 3 行：角色“主播”不认识，应为 主IP、马甲、客服 或 设计师"),
        ("C2", "25:00", "脚本 第 2 行：时间“25:00”不对，应为 24 小时制的 时:分，如 09:00"),
        ("F4", "闲聊", "脚本 第 4 行：类型“闲聊”不认识，应为 话题、互动游戏、价值内容、案例"),
        ("A6", "冲刺期", "脚本 第 6 行：阶段“冲刺期”不在“阶段”表里"),
        ("B5", 4, "脚本 第 5 行：第 4 天超出了阶段“铺垫期”的天数（3 天）"),
        ("B5", "明天", "脚本 第 5 行：第几天“明天”应为从 1 开始的整数"),
        ("G2", None, "脚本 第 2 行：脚本内容不能为空"),
        ("G2", "   ", "脚本 第 2 行：脚本内容不能为空"),
    ],
)
def test_a_bad_script_cell_names_sheet_and_row(ctx, cell, value, problem):
    def edit(workbook):
        workbook["脚本"][cell] = value

    problems = _problems(_edited(edit))
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem), problems


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "problem"),
    [
        ("阶段", "D2", 2, "脚本 第 5 行：第 3 天超出了阶段“铺垫期”的天数（2 天）"),
        ("阶段", "D2", 0, "阶段 第 2 行：天数“0”应为 1 到 60 之间的整数"),
        ("阶段", "B3", "铺垫期", "阶段 第 3 行：阶段名称“铺垫期”与第 2 行重复"),
        ("说明", "B1", None, "说明 第 1 行：剧本名称不能为空"),
        ("常用文案", "B2", None, "常用文案 第 2 行：名称和内容都不能为空"),
        ("脚本", "E1", "人设", "脚本 第 1 行：缺少“角色”列"),
    ],
)
def test_other_sheets_name_their_row(ctx, sheet, cell, value, problem):
    def edit(workbook):
        workbook[sheet][cell] = value

    assert problem in _problems(_edited(edit))


def test_every_problem_is_listed_at_once_and_nothing_is_imported(ctx):
    def edit(workbook):
        script = workbook["脚本"]
        script["E3"] = "主播"
        script["C4"] = "晚上"
        script["A6"] = "冲刺期"

    problems = _problems(_edited(edit))
    assert [problem.split("：")[0] for problem in problems] == ["脚本 第 3 行", "脚本 第 4 行", "脚本 第 6 行"]


def test_a_playbook_without_phases_is_refused(ctx):
    def edit(workbook):
        workbook["阶段"].delete_rows(2, 10)
        workbook["脚本"].delete_rows(2, 10)

    assert "至少需要一个阶段" in _problems(_edited(edit))


def test_a_missing_sheet_is_named(ctx):
    def edit(workbook):
        del workbook["常用文案"]

    assert _problems(_edited(edit)) == ["文件里没有“常用文案”工作表，请用导出的剧本表格修改后再导入"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("阶段,第几天,时间\n铺垫期,1,09:00\n".encode(), "这个文件不是 Excel 表格（.xlsx）"),  # a .txt renamed .xlsx
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "旧版 Excel（.xls）"),
        (b"PK\x03\x04 this is no workbook", "无法读取这个 Excel 文件"),
        (b"", "上传的文件是空的"),
        (b"PK\x03\x04" + b"\0" * MAX_FILE_BYTES, "文件不能超过 5 MB"),
    ],
    ids=["text", "xls", "broken", "empty", "oversize"],
)
def test_files_that_are_no_playbook_workbook(ctx, data, problem):
    problems = _problems(data)
    assert len(problems) == 1 and problem in problems[0], problems


def test_a_workbook_that_is_not_a_playbook(ctx):
    workbook = Workbook()
    workbook.active.append(["小区名称", "户数"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    problems = _problems(buffer.getvalue())
    assert "文件里没有“阶段”工作表，请用导出的剧本表格修改后再导入" in problems
    assert len(problems) == 4  # one per missing sheet
