"""The XLSX export: columns, phone masking per role, the list's filters, dealer isolation, permissions."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from crm.core.roles import Role
from crm.extensions import db
from crm.people.models import LadderStage, Person

HEADER = [
    "姓名",
    "手机号",
    "微信号",
    "楼盘",
    "楼栋",
    "单元",
    "房号",
    "户型",
    "阶段",
    "标签",
    "来源",
    "主IP",
    "推荐人",
    "备注",
]


def _sheet(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        return [["" if v is None else v for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


@pytest.fixture
def people(app, world):
    """Besides the world's owner: a key person of dealer A assigned to the operator, referred by the owner."""
    with app.app_context():
        person = Person(
            dealer_id=world.a.dealer_id,
            name="关键人物",
            phone="13955556666",
            wechat_id="key_wx",
            estate_id=world.a.estate_id,
            floor_plan_id=world.a.floor_plan_id,
            building="2",
            unit="1",
            room="1202",
            tags=["群主", "KOL"],
            source='=HYPERLINK("x")',
            notes="装修预算充足",
            operator_id=world.a.user_ids[Role.OPERATOR],
            referred_by_id=world.a.person_id,
            ladder_stage=LadderStage.INTENT,
            is_key_person=True,
        )
        db.session.add(person)
        db.session.commit()
        return person.id


def test_the_lead_exports_every_person_with_full_numbers(app, world, login, people):
    response = login(world.a.lead).get("/people/io/export.xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="people-') and "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("UTF-8''", 1)[1]).startswith("人员名单-")
    rows = _sheet(response)
    assert rows[0] == HEADER
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {world.a.person_name, "关键人物"}
    assert by_name[world.a.person_name][1] == world.a.person_phone
    key = by_name["关键人物"]
    assert key == [
        "关键人物",
        "13955556666",
        "key_wx",
        world.a.estate_name,
        "2",
        "1",
        "1202",
        world.a.floor_plan_name,
        "意向用户",
        "群主、KOL",
        '=HYPERLINK("x")',  # kept as text, never a formula
        world.a.user_display_names[Role.OPERATOR],
        world.a.person_name,
        "装修预算充足",
    ]
    # Dealer B's owner (same phone pattern) is never in A's export.
    assert world.b.person_name not in by_name and world.b.person_phone not in [row[1] for row in rows]


def test_phones_are_masked_by_role(app, world, login, people):
    assistant = {
        row[0]: row[1] for row in _sheet(login(world.a.usernames[Role.ASSISTANT]).get("/people/io/export.xlsx"))
    }
    assert assistant[world.a.person_name] == "138****8001"
    assert assistant["关键人物"] == "139****6666"
    operator = {row[0]: row[1] for row in _sheet(login(world.a.usernames[Role.OPERATOR]).get("/people/io/export.xlsx"))}
    # The operator sees the number of the person assigned to them, and only that one.
    assert operator["关键人物"] == "13955556666"
    assert operator[world.a.person_name] == world.a.person_phone[:3] + "****" + world.a.person_phone[-4:]


def test_the_assistant_sees_138_masked(app, world, login):
    rows = _sheet(login(world.a.usernames[Role.ASSISTANT]).get("/people/io/export.xlsx"))
    assert world.a.person_phone == "13800138001"
    assert rows[1][:2] == [world.a.person_name, "138****8001"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": "intent"}, {"关键人物"}),
        ({"stage": "nonsense"}, {"关键人物", "甲方专属业主"}),
        ({"tag": "KOL"}, {"关键人物"}),
        ({"key": "1"}, {"关键人物"}),
        ({"operator_id": "OPERATOR"}, {"关键人物"}),
        ({"q": "关键"}, {"关键人物"}),
        ({"q": "key_wx"}, {"关键人物"}),
        ({"q": "13955556666"}, {"关键人物"}),
        ({"q": "5555"}, set()),  # digits of a number do not find it: masked numbers stay unguessable
        ({"group_id": "GROUP"}, {"甲方专属业主"}),
        ({"estate_id": "ESTATE"}, {"关键人物", "甲方专属业主"}),
        ({"estate_id": "OTHER_ESTATE"}, set()),
    ],
)
def test_export_filters(app, world, login, people, query, expected):
    values = {
        "OPERATOR": world.a.user_ids[Role.OPERATOR],
        "GROUP": world.a.group_id,
        "ESTATE": world.a.estate_id,
        "OTHER_ESTATE": world.b.estate_id,
    }
    query = {key: values.get(value, value) for key, value in query.items()}
    rows = _sheet(login(world.a.lead).get("/people/io/export.xlsx", query_string=query))
    assert {row[0] for row in rows[1:]} == expected


def test_another_dealers_group_filter_exports_nobody(app, world, login, people):
    rows = _sheet(login(world.a.lead).get("/people/io/export.xlsx", query_string={"group_id": world.b.group_id}))
    assert rows == [HEADER]


def test_an_installer_exports_with_masked_numbers(app, world, login):
    rows = _sheet(login(world.a.usernames[Role.INSTALLER]).get("/people/io/export.xlsx"))
    assert world.a.person_phone not in [row[1] for row in rows]


@pytest.mark.parametrize("user", ["hq_admin", "hq_viewer"])
def test_hq_cannot_export(app, world, login, user):
    assert login(user).get("/people/io/export.xlsx").status_code == 403
