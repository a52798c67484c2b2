"""The base-deals table (基准成交 per product category) HQ edits, and each dealer's groups compared against it."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa

from crm.coverage.models import BaseDealRate
from crm.extensions import db
from crm.groups.models import Group, GroupStatus
from crm.offers.models import Product

URL = "/hq/coverage/base-deals"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _rates(app) -> list[tuple[str, Decimal, str]]:
    with app.app_context():
        return [
            (r.category, r.orders_per_group, r.note)
            for r in db.session.scalars(sa.select(BaseDealRate).order_by(BaseDealRate.category))
        ]


def _rate_id(app, category: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(BaseDealRate.id).where(BaseDealRate.category == category))


def _categorise(app, product_id: int, category: str) -> None:
    with app.app_context():
        db.session.get(Product, product_id).category = category
        db.session.commit()


def _comparison_row(page: str, code: str) -> list[tuple[str, str]]:
    """(class, text) of each number cell in a dealer's line of the comparison."""
    table = re.search(r'<table class="table base-comparison">.*?</table>', page, re.S).group(0)
    row = re.search(rf"<tr>\s*<td><strong>{code}</strong>.*?</tr>", table, re.S).group(0)
    return [(cls.strip(), value.strip()) for cls, value in re.findall(r'<td class="num([^"]*)">([^<]*)</td>', row)]


def test_admin_adds_a_rate_and_sees_every_dealer_against_it(app, world, login):
    _categorise(app, world.a.product_id, "木门")  # A's one order (not cancelled) has a door
    client = login(world.hq_admin)
    page = _text(client.get(URL))
    assert '<option value="木门">' in page  # suggested from the catalogs
    assert "还没有品类基准" in page and "先添加品类基准，才能对比。" in page

    response = client.post(URL, data={"category": " 木门 ", "orders_per_group": "0.5", "note": "一个群半单"})
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)
    assert _rates(app) == [("木门", Decimal("0.5"), "一个群半单")]
    page = _text(client.get(URL))
    assert "已添加品类基准：木门" in page
    assert "一个群半单" in page and "总部管理员" in page
    assert "预期 = 经销商现有社群数（未解散）× 该品类每群基准成交" in page
    # A: 1 group × 0.5 = 0.5 expected, 1 order: 200 %, above expectation
    assert _comparison_row(page, "AAA") == [("", "1"), ("", "0.5"), ("", "1"), ("ratio-high", "200.0%")]
    # B: 1 group, no door sold: 0 %, far below
    assert _comparison_row(page, "BBB") == [("", "1"), ("", "0.5"), ("", "0"), ("ratio-low", "0.0%")]


def test_the_comparison_follows_live_groups_and_rates(app, world, login):
    _categorise(app, world.a.product_id, "木门")
    with app.app_context():
        db.session.add_all(
            [
                Group(
                    dealer_id=world.a.dealer_id, estate_id=world.a.estate_id, name="二群", status=GroupStatus.OPERATING
                ),
                Group(
                    dealer_id=world.a.dealer_id, estate_id=world.a.estate_id, name="旧群", status=GroupStatus.DISSOLVED
                ),
            ]
        )
        db.session.commit()
    client = login(world.hq_admin)
    assert client.post(URL, data={"category": "木门", "orders_per_group": "0.8"}).status_code == 302
    assert client.post(URL, data={"category": "衣柜", "orders_per_group": "0"}).status_code == 302
    page = _text(client.get(URL))
    # A: 2 live groups (the dissolved one does not count): 1.6 expected, 1 order → 62.5 %; 衣柜: nothing expected
    assert _comparison_row(page, "AAA") == [
        ("", "2"),
        ("", "1.6"),
        ("", "1"),
        ("", "62.5%"),
        ("", "0.0"),
        ("", "0"),
        ("", "—"),
    ]


def test_admin_edits_and_deletes_a_rate(app, world, login):
    client = login(world.hq_admin)
    client.post(URL, data={"category": "木门", "orders_per_group": "2"})
    rate_id = _rate_id(app, "木门")
    prefix = f"rate{rate_id}-"
    response = client.post(
        f"{URL}/{rate_id}",
        data={f"{prefix}category": "木门", f"{prefix}orders_per_group": "3.5", f"{prefix}note": "旺季上调"},
    )
    assert response.status_code == 302
    assert _rates(app) == [("木门", Decimal("3.5"), "旺季上调")]
    page = _text(client.get(URL))
    assert "已保存品类基准：木门" in page and "3.5" in page and "旺季上调" in page
    assert 'data-confirm="确定删除品类“木门”的基准？"' in page

    response = client.post(f"{URL}/{rate_id}/delete")
    assert response.status_code == 302
    assert _rates(app) == []
    assert "已删除品类基准：木门" in _text(client.get(URL))


def test_duplicate_negative_and_unreadable_rates_are_refused(app, world, login):
    client = login(world.hq_admin)
    client.post(URL, data={"category": "木门", "orders_per_group": "2"})
    client.post(URL, data={"category": "衣柜", "orders_per_group": "1"})

    duplicate = client.post(URL, data={"category": "木门", "orders_per_group": "4"})
    assert duplicate.status_code == 422 and "品类「木门」已经有基准" in _text(duplicate)
    negative = client.post(URL, data={"category": "橱柜", "orders_per_group": "-1"})
    assert negative.status_code == 422 and "每群基准成交须在 0 到 1000 之间" in _text(negative)
    assert 'value="-1"' in _text(negative)  # what was typed comes back to correct
    unreadable = client.post(URL, data={"category": "橱柜", "orders_per_group": "两单"})
    assert unreadable.status_code == 422 and "请输入数字" in _text(unreadable)
    blank = client.post(URL, data={"category": "", "orders_per_group": "1"})
    assert blank.status_code == 422 and "请填写品类" in _text(blank)

    wardrobe = _rate_id(app, "衣柜")
    prefix = f"rate{wardrobe}-"
    renamed = client.post(f"{URL}/{wardrobe}", data={f"{prefix}category": "木门", f"{prefix}orders_per_group": "1"})
    assert renamed.status_code == 422 and "品类「木门」已经有基准" in _text(renamed)
    assert f'id="rate-{wardrobe}"' in _text(renamed) and '<details class="inline-details" open>' in _text(renamed)
    assert _rates(app) == [("木门", Decimal("2.0"), ""), ("衣柜", Decimal("1.0"), "")]


def test_an_unknown_rate_is_404(app, world, login):
    client = login(world.hq_admin)
    assert (
        client.post(f"{URL}/999", data={"rate999-category": "木门", "rate999-orders_per_group": "1"}).status_code == 404
    )
    assert client.post(f"{URL}/999/delete").status_code == 404


def test_hq_viewer_reads_the_table_but_cannot_change_it(app, world, login):
    login(world.hq_admin).post(URL, data={"category": "木门", "orders_per_group": "2"})
    rate_id = _rate_id(app, "木门")
    client = login(world.hq_viewer)
    page = _text(client.get(URL))
    assert "木门" in page and "添加品类基准" not in page and '<form method="post" action="/hq/coverage/base' not in page
    assert client.post(URL, data={"category": "衣柜", "orders_per_group": "1"}).status_code == 403
    prefix = f"rate{rate_id}-"
    assert (
        client.post(
            f"{URL}/{rate_id}", data={f"{prefix}category": "木门", f"{prefix}orders_per_group": "9"}
        ).status_code
        == 403
    )
    assert client.post(f"{URL}/{rate_id}/delete").status_code == 403
    assert _rates(app) == [("木门", Decimal("2.0"), "")]
