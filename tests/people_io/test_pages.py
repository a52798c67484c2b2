"""The import pages: upload → preview (htmx mapping) → apply; tokens, permissions, masking in the preview."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.people.models import Person
from tests.imports.files import csv_bytes, xlsx_bytes

HTMX = {"HX-Request": "true"}


def _upload(client, data: bytes, filename: str = "业主名单.csv"):
    return client.post(
        "/people/io/import", data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def _token(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def _counts(body: str) -> dict[str, int]:
    pairs = re.findall(r'<span class="num">(\d+)</span><span class="label">([^<]+)</span>', body)
    return {label: int(number) for number, label in pairs}


def _people_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Person.id)))


def _rows(world):
    return [
        ["客户称呼", "手机", "微信", "楼盘", "房号"],
        ["周女士", "13911112222", "zhou", world.a.estate_name, "801"],
        ["业主本人", world.a.person_phone, "", "", "1101"],
        ["坏号码", "12345", "", "", ""],
    ]


def test_upload_map_with_htmx_and_apply(app, world, login, upload_folder):
    client = login(world.a.lead)
    page = client.get("/people/io/import").get_data(as_text=True)
    assert "导入人员名单" in page and 'name="file"' in page

    token = _token(_upload(client, csv_bytes(_rows(world), encoding="gbk")))
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", token)
    assert (Path(upload_folder) / "people-imports" / str(world.a.dealer_id) / token).is_file()

    page = client.get(f"/people/io/import/{token}").get_data(as_text=True)
    assert "请指定哪一列是“手机号”或“微信号”" not in page
    assert '<select id="column-0" name="column-0">' in page
    # 客户称呼 is not a known header: every new row lacks a name until the mapping says otherwise.
    assert "缺少姓名或昵称" in page and "确认导入（新增 0，更新 1）" in page

    mapping = {
        "column-0": "name",
        "column-1": "phone",
        "column-2": "wechat_id",
        "column-3": "estate",
        "column-4": "room",
    }
    response = client.post(f"/people/io/import/{token}", data=mapping, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="mapping-form"' in body
    assert _counts(body) == {"将新增": 1, "将更新": 1, "不变": 0, "有问题": 1}
    assert "房号：— → 1101" in body
    assert "手机号格式不正确（应为 11 位手机号）" in body
    assert '<option value="name" selected>' in body
    # Only the dealer lead may import (SEE_ALL_PHONES): the preview shows the numbers in full.
    assert "13911112222" in body
    assert '<input type="hidden" name="column-0" value="name">' in body

    before = _people_count(app)
    response = client.post(f"/people/io/import/{token}/apply", data=mapping)
    assert response.status_code == 302 and response.headers["Location"].endswith("/people/io/import")
    assert _people_count(app) == before + 1
    with app.app_context():
        assert db.session.get(Person, world.a.person_id).room == "1101"
    page = client.get("/people/io/import").get_data(as_text=True)
    assert "导入完成：新增 1 人，更新 1 人，不变 0 人，跳过有问题的 1 行" in page
    # The file is gone once applied.
    assert client.get(f"/people/io/import/{token}").status_code == 404


def test_the_lead_sees_full_numbers_in_the_preview(app, world, login):
    client = login(world.a.lead)
    token = _token(_upload(client, xlsx_bytes(_rows(world)), "名单.xlsx"))
    body = client.get(f"/people/io/import/{token}").get_data(as_text=True)
    assert "13911112222" in body


def test_reimport_previews_all_unchanged(app, world, login):
    client = login(world.a.lead)
    rows = [["姓名", "手机号", "楼盘"], ["周女士", "13911112222", world.a.estate_name]]
    token = _token(_upload(client, csv_bytes(rows, encoding="utf-8-sig")))
    mapping = {"column-0": "name", "column-1": "phone", "column-2": "estate"}
    assert client.post(f"/people/io/import/{token}/apply", data=mapping).status_code == 302
    count = _people_count(app)

    token = _token(_upload(client, csv_bytes(rows, encoding="utf-8-sig")))
    body = client.get(f"/people/io/import/{token}").get_data(as_text=True)
    assert _counts(body) == {"将新增": 0, "将更新": 0, "不变": 1, "有问题": 0}
    assert "确认导入" not in body
    client.post(f"/people/io/import/{token}/apply", data=mapping)
    assert _people_count(app) == count


def test_an_unreadable_upload_is_refused_and_not_stored(app, world, login, upload_folder):
    client = login(world.a.lead)
    response = _upload(client, b"PK\x03\x04 broken", "名单.xlsx")
    assert response.status_code == 422
    assert "无法读取这个 Excel 文件" in response.get_data(as_text=True)
    response = _upload(client, b"x", "名单.xls")
    assert "另存为 .xlsx 或 CSV" in response.get_data(as_text=True)
    assert not (Path(upload_folder) / "people-imports" / str(world.a.dealer_id)).exists() or not any(
        (Path(upload_folder) / "people-imports" / str(world.a.dealer_id)).iterdir()
    )


def test_a_mapping_without_identifier_cannot_be_applied(app, world, login):
    client = login(world.a.lead)
    token = _token(_upload(client, csv_bytes(_rows(world))))
    before = _people_count(app)
    response = client.post(f"/people/io/import/{token}/apply", data={"column-0": "name"})
    assert response.status_code == 302 and response.headers["Location"].endswith(token)
    assert _people_count(app) == before
    assert "未导入任何数据：请指定哪一列是“手机号”或“微信号”" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "token",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "../1/x.csv",
        "0123456789abcdef0123456789abcdef.txt",
        "0123456789ABCDEF0123456789ABCDEF.csv",
        "0123456789abcdef0123456789abcdef.csv",  # well formed, but no such file
        "%2e%2e",
    ],
)
def test_tampered_tokens_are_not_found(app, world, login, token):
    client = login(world.a.lead)
    assert client.get(f"/people/io/import/{token}").status_code == 404
    assert client.post(f"/people/io/import/{token}/apply", data={}).status_code == 404


def test_another_dealers_token_is_not_found(app, world, login):
    token = _token(_upload(login(world.b.lead), csv_bytes(_rows(world))))
    client = login(world.a.lead)
    before = _people_count(app)
    assert client.get(f"/people/io/import/{token}").status_code == 404
    assert client.post(f"/people/io/import/{token}", data={"column-1": "phone"}).status_code == 404
    assert client.post(f"/people/io/import/{token}/apply", data={"column-1": "phone"}).status_code == 404
    assert _people_count(app) == before


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT, Role.INSTALLER])
def test_roles_without_import_permission_are_refused(app, world, login, role):
    lead_token = _token(_upload(login(world.a.lead), csv_bytes(_rows(world))))
    client = login(world.a.usernames[role])
    assert client.get("/people/io/import").status_code == 403
    assert _upload(client, csv_bytes(_rows(world))).status_code == 403
    assert client.get(f"/people/io/import/{lead_token}").status_code == 403
    assert client.post(f"/people/io/import/{lead_token}/apply", data={}).status_code == 403


@pytest.mark.parametrize("user", ["hq_admin", "hq_viewer"])
def test_hq_cannot_import(app, world, login, user):
    client = login(user)
    assert client.get("/people/io/import").status_code == 403
    assert _upload(client, csv_bytes(_rows(world))).status_code == 403
