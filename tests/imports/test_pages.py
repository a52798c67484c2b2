"""The import pages: upload → mapping (htmx or plain form) → apply; permissions and failures."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.estates.models import Estate
from crm.extensions import db
from crm.imports import service
from crm.imports.models import EstateImport
from tests.factories import make_estate_import
from tests.imports.files import HEADER, csv_bytes, xlsx_bytes

HTMX = {"HX-Request": "true"}


def _upload(client, world, data: bytes, filename: str, coord_system: str = "bd09"):
    return client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(data), filename),
            "city_id": str(world.city_ids["齐齐哈尔"]),
            "coord_system": coord_system,
        },
        content_type="multipart/form-data",
    )


def _counts(body: str) -> dict[str, int]:
    pairs = re.findall(r'<span class="num">(\d+)</span><span class="label">([^<]+)</span>', body)
    return {label: int(number) for number, label in pairs}


def _estate_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Estate.id)))


def test_upload_correct_the_mapping_with_htmx_and_apply(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    page = client.get("/imports/new").get_data(as_text=True)
    assert "导入楼盘表" in page and 'name="file"' in page
    # The dealer's own city is preselected.
    assert f'<option selected value="{world.city_ids["齐齐哈尔"]}">' in page

    rows = [
        ["序号", "楼盘全称", "总户数", "交房时间", "坐标"],
        ["1", "江畔人家", "约1,200户", "2025年第二季度", "123.9600,47.3400"],
        ["2", "湖滨苑", "暂无", "2026-03", "47.3500,123.9500"],
        ["3", world.a.estate_name, "1,500", "", ""],
        ["4", "", "100", "", ""],
    ]
    response = _upload(client, world, csv_bytes(rows, encoding="gbk"), "房天下导出.csv")
    assert response.status_code == 302
    detail_url = response.headers["Location"]
    import_id = int(detail_url.rstrip("/").rsplit("/", 1)[-1])

    page = client.get(detail_url).get_data(as_text=True)
    assert "房天下导出.csv" in page
    assert "请指定哪一列是“楼盘名称”" in page  # 楼盘全称 is not a known header
    assert '<select id="column-2" name="column-2">' in page
    assert "确认导入" not in page

    mapping = {"column-0": "", "column-1": "name", "column-2": "households", "column-3": "delivery_date"}
    mapping |= {"column-4": "lnglat", "coord_system": "bd09"}
    response = client.post(f"/imports/{import_id}/mapping", data=mapping, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="mapping-form"' in body
    assert _counts(body) == {"将新增": 2, "将更新": 1, "不变": 0, "有问题": 1}
    assert "户数：1,200 → 1,500" in body
    assert "缺少楼盘名称" in body
    assert '<option value="name" selected>' in body

    # The mapping was saved: a plain reload shows it.
    page = client.get(detail_url).get_data(as_text=True)
    assert '<option value="lnglat" selected>' in page and "确认导入（新增 2，更新 1）" in page

    before = _estate_count(app)
    response = client.post(f"/imports/{import_id}/apply")
    assert response.status_code == 302 and response.headers["Location"].endswith("/estates/")
    estates_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "导入完成：新增 2 个，更新 1 个，不变 0 个，跳过有问题的 1 行" in estates_page
    assert "江畔人家" in estates_page
    assert _estate_count(app) == before + 2
    with app.app_context():
        assert db.session.get(Estate, world.a.estate_id).households == 1500
        estate_import = db.session.get(EstateImport, import_id)
        assert estate_import.created_by_id == world.a.user_ids[Role.OPERATOR]
        assert estate_import.summary == {"added": 2, "updated": 1, "unchanged": 0, "rejected": 1}

    # Once applied, the page says what happened and the import cannot be changed or applied again.
    page = client.get(detail_url).get_data(as_text=True)
    assert "这份楼盘表已于" in page and 'id="mapping-form"' not in page
    assert client.post(f"/imports/{import_id}/mapping", data=mapping, headers=HTMX).status_code == 200
    again = client.post(f"/imports/{import_id}/apply", follow_redirects=True).get_data(as_text=True)
    assert "已经导入过了" in again
    assert _estate_count(app) == before + 2


def test_mapping_without_javascript_redirects_back_to_the_preview(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/imports/{world.a.import_id}/mapping", data={"column-0": "name", "column-1": "", "coord_system": "gcj02"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/{world.a.import_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<option selected value="gcj02">' in page
    with app.app_context():
        assert db.session.get(EstateImport, world.a.import_id).column_mapping == {"小区名称": "name", "户数": ""}
    for bad in ({"coord_system": "mars"}, {"column-0": "name"}):
        assert client.post(f"/imports/{world.a.import_id}/mapping", data=bad).status_code == 400


def test_detail_answers_htmx_with_the_partial(app, world, login):
    client = login(world.a.lead)
    body = client.get(f"/imports/{world.a.import_id}", headers=HTMX).get_data(as_text=True)
    assert "<html" not in body and "工厂花园" in body


def test_xlsx_upload(app, world, login):
    client = login(world.a.lead)
    data = xlsx_bytes([HEADER, ["表格花园", "龙沙区", 900, None, 7000, 123.95, 47.33]])
    response = _upload(client, world, data, "楼盘.xlsx", coord_system="wgs84")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _counts(page)["将新增"] == 1 and "表格花园" in page and "7,000 元/㎡" in page


@pytest.mark.parametrize(
    "filename, data, message",
    [
        ("楼盘.txt", b"a,b\n", "只能导入 .xlsx 或 .csv 文件"),
        ("楼盘.xls", b"\xd0\xcf\x11\xe0", "另存为 .xlsx 或 CSV"),
        ("楼盘.csv", b"", "上传的文件是空的"),
        ("楼盘.xlsx", b"PK\x03\x04broken", "无法读取这个 Excel 文件"),
    ],
)
def test_a_bad_upload_is_explained_and_nothing_is_saved(app, world, login, upload_folder, filename, data, message):
    client = login(world.a.lead)
    files_before = sorted((upload_folder / "imports").rglob("*"))
    response = _upload(client, world, data, filename)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and "本次未保存" in body
    assert sorted((upload_folder / "imports").rglob("*")) == files_before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EstateImport.id))) == 2  # the world's two


def test_upload_without_a_file(app, world, login):
    client = login(world.a.lead)
    response = client.post("/imports/new", data={"city_id": world.city_ids["齐齐哈尔"], "coord_system": "bd09"})
    assert response.status_code == 422 and "请选择要导入的文件" in response.get_data(as_text=True)


def test_a_failed_apply_writes_nothing_and_says_why(app, world, login, monkeypatch):
    client = login(world.a.lead)
    rows = [HEADER, [world.a.estate_name, "", "1500", "", "", "", ""], ["甲", "", "1", "", "", "", ""]]
    rows += [["乙", "", "2", "", "", "", ""]]
    response = _upload(client, world, csv_bytes(rows), "楼盘.csv")
    import_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    calls = []
    real_create = service.create_estate

    def fail_second_create(session, dealer_id, data):
        calls.append(data.name)
        if len(calls) == 2:
            raise FieldError("name", "本经销商在该城市已有同名楼盘")
        return real_create(session, dealer_id, data)

    monkeypatch.setattr(service, "create_estate", fail_second_create)
    before = _estate_count(app)
    response = client.post(f"/imports/{import_id}/apply")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/imports/{import_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未导入任何数据：第 4 行（乙）：本经销商在该城市已有同名楼盘" in page
    assert calls == ["甲", "乙"]
    assert _estate_count(app) == before
    with app.app_context():
        assert db.session.get(Estate, world.a.estate_id).households == 1200
        assert db.session.get(EstateImport, import_id).applied_at is None


def test_recent_imports_are_listed(app, world, login):
    client = login(world.a.lead)
    page = client.get("/imports/new").get_data(as_text=True)
    assert f'href="/imports/{world.a.import_id}"' in page and "待确认" in page
    assert f'href="/imports/{world.b.import_id}"' not in page


@pytest.mark.parametrize(
    "role", [Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT, Role.INSTALLER], ids=lambda role: role.value
)
def test_roles_without_the_import_permission_get_403(app, world, login, role):
    client = login(world.a.usernames[role])
    import_id = world.a.import_id
    for method, url in [
        ("GET", "/imports/new"),
        ("POST", "/imports/new"),
        ("GET", f"/imports/{import_id}"),
        ("POST", f"/imports/{import_id}/mapping"),
        ("POST", f"/imports/{import_id}/apply"),
    ]:
        response = client.open(url, method=method, data={"column-0": "name", "coord_system": "wgs84"})
        assert response.status_code == 403, (role, url)
    assert "导入楼盘表" not in client.get("/estates/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(EstateImport, import_id).applied_at is None


def test_hq_cannot_import(app, world, login):
    client = login(world.hq_admin)
    assert client.get("/imports/new").status_code == 403
    assert client.post(f"/imports/{world.a.import_id}/apply").status_code == 403


def test_another_dealers_import_is_404(app, world, login):
    client = login(world.a.lead)
    for method, url in [
        ("GET", f"/imports/{world.b.import_id}"),
        ("POST", f"/imports/{world.b.import_id}/mapping"),
        ("POST", f"/imports/{world.b.import_id}/apply"),
    ]:
        assert client.open(url, method=method).status_code == 404
    with app.app_context():
        assert db.session.get(EstateImport, world.b.import_id).applied_at is None


def test_preview_query_count_does_not_grow_with_rows(app, world, login, count_queries):
    client = login(world.a.lead)

    def upload(n: int) -> int:
        rows = [HEADER] + [[f"计数花园{i}号", "龙沙区", "100", "", "", "", ""] for i in range(n)]
        rows += [[world.a.estate_name, "", "1500", "", "", "", ""]]
        with app.app_context():
            estate_import = make_estate_import(
                db.session, world.a.dealer_id, world.city_ids["齐齐哈尔"], data=csv_bytes(rows)
            )
            db.session.commit()
            return estate_import.id

    few, many = upload(1), upload(30)
    with count_queries() as few_queries:
        assert client.get(f"/imports/{few}").status_code == 200
    with count_queries() as many_queries:
        assert client.get(f"/imports/{many}").status_code == 200
    assert many_queries.count == few_queries.count, many_queries.statements
