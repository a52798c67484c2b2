"""The thresholds coverage is judged by: defaults, saving, range errors, and who may change them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from crm.core.models import local_today
from crm.coverage.models import CoverageSettings
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db

URL = "/hq/coverage/settings"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _saved(app) -> list[tuple[int, int, int]]:
    with app.app_context():
        return [
            (s.neglect_days, s.active_days, s.conflict_radius_m)
            for s in db.session.scalars(sa.select(CoverageSettings))
        ]


def _post(client, neglect="30", active="14", radius="200"):
    return client.post(URL, data={"neglect_days": neglect, "active_days": active, "conflict_radius_m": radius})


def test_the_defaults_show_until_hq_saves(app, world, login):
    page = _text(login(world.hq_admin).get(URL))
    assert "当前为默认值" in page
    for name, value in (("neglect_days", 30), ("active_days", 14), ("conflict_radius_m", 200)):
        assert f'name="{name}"' in page and f'value="{value}"' in page
    for label in ("有盘不做天数", "运营判定天数", "同一楼盘判定距离（米）"):
        assert label in page
    assert _saved(app) == []


def test_admin_saves_and_the_lists_follow(app, world, login):
    with app.app_context():
        estate = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name="二十天小区", city_id=world.city_ids["齐齐哈尔"], stage=EstateStage.TARGET),
        )
        estate.targeted_on = local_today() - timedelta(days=20)
        db.session.commit()
    client = login(world.hq_admin)
    assert "二十天小区" not in _text(client.get("/hq/coverage/neglected"))

    response = _post(client, neglect="15", active="7", radius="300")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert _saved(app) == [(15, 7, 300)]
    page = _text(client.get(URL))
    assert "已保存覆盖判定设置" in page and 'value="15"' in page and 'value="300"' in page
    assert "最近修改：总部管理员" in page
    neglected = _text(client.get("/hq/coverage/neglected"))
    assert "二十天小区" in neglected and "5 天" in neglected  # 20 days since targeting, 15 allowed

    assert _post(client, neglect="45").status_code == 302
    assert _saved(app) == [(45, 14, 200)]  # one row per brand, changed in place


def test_out_of_range_and_unreadable_values_are_refused_in_chinese(app, world, login):
    client = login(world.hq_admin)
    for values, message in (
        ({"neglect": "0"}, "天数须在 1 到 365 之间"),
        ({"neglect": "366"}, "天数须在 1 到 365 之间"),
        ({"active": "91"}, "天数须在 1 到 90 之间"),
        ({"radius": "5"}, "距离须在 10 到 5000 米之间"),
        ({"radius": "5001"}, "距离须在 10 到 5000 米之间"),
        ({"neglect": "三十"}, "请输入整数"),
        ({"active": ""}, "请填写天数"),
    ):
        refused = _post(client, **values)
        assert refused.status_code == 422, values
        assert message in _text(refused), values
    assert _saved(app) == []


def test_hq_viewer_sees_the_thresholds_read_only(app, world, login):
    assert _post(login(world.hq_admin), neglect="40").status_code == 302
    client = login(world.hq_viewer)
    page = _text(client.get(URL))
    assert "40 天" in page and "14 天" in page and "200 米" in page
    assert 'name="neglect_days"' not in page
    assert _post(client, neglect="10").status_code == 403
    assert _saved(app) == [(40, 14, 200)]
