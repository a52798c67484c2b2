"""HQ's home page says what needs attention: estates per coverage status, undecided 有盘不做, open conflicts."""

from __future__ import annotations

import re
from datetime import timedelta

from crm.core.models import local_today
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db


def _stat(page: str, label: str) -> int:
    match = re.search(r'<span class="num">(\d+)</span><span class="label">' + re.escape(label), page)
    assert match, label
    return int(match.group(1))


def test_hq_home_counts_what_needs_a_decision(app, world, login):
    with app.app_context():
        city = world.city_ids["齐齐哈尔"]
        late = create_estate(
            db.session, world.a.dealer_id, EstateFields(name="超期未建群", city_id=city, stage=EstateStage.TARGET)
        )
        late.targeted_on = local_today() - timedelta(days=45)
        for dealer_id in (world.a.dealer_id, world.b.dealer_id):
            create_estate(db.session, dealer_id, EstateFields(name="两家都报的盘", city_id=city, lat=47.35, lng=123.95))
        db.session.commit()
    page = login(world.hq_viewer).get("/").get_data(as_text=True)
    assert _stat(page, "有盘不做待处理") == 1
    assert _stat(page, "归属冲突待裁定") == 1
    assert "覆盖情况" not in login(world.a.lead).get("/").get_data(as_text=True)
