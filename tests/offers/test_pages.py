"""The offer pages: the product catalog, an estate's offer with its tiers, early birds and promises, the live
status after the groups' deposits are recorded, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.models import local_today
from crm.core.roles import DEALER_ROLES, Role
from crm.estates.models import Estate
from crm.extensions import db
from crm.groups import service as groups
from crm.groups.models import Group
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise
from tests.offers.helpers import HX, make_offer

TODAY = local_today()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _offer_id(app, title: str) -> int:
    with app.app_context():
        return db.session.scalars(sa.select(GroupOffer.id).where(GroupOffer.title == title)).one()


# ---------------------------------------------------------------- an offer from start to finish


def test_lead_creates_an_offer_with_tiers_early_bird_and_promise(app, world, login):
    client = login(world.a.lead)
    url = f"/offers/new?estate_id={world.a.estate_id}"
    form = client.get(url)
    assert form.status_code == 200 and world.a.estate_name in _text(form)
    refused = client.post(url, data={"title": "冬季团购", "starts_on": "2026-12-10", "ends_on": "2026-12-01"})
    assert refused.status_code == 422 and "报名截止不能早于开始日期" in _text(refused)
    refused = client.post(
        url, data={"title": "冬季团购", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "event_on": "2026-11-30"}
    )
    assert refused.status_code == 422 and "活动日期不能早于开始日期" in _text(refused)
    response = client.post(
        url,
        data={
            "title": "冬季团购",
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-31",
            "event_on": "2027-01-06",
            "store_gift": "到店交定送五金礼包",
            "deposit_amount": "300",
        },
    )
    assert response.status_code == 302
    offer_id = _offer_id(app, "冬季团购")
    assert response.headers["Location"].endswith(f"/offers/{offer_id}")

    assert (
        client.post(f"/offers/{offer_id}/tiers", data={"min_deposits": "10", "discount_percent": "88"}).status_code
        == 302
    )
    assert (
        client.post(f"/offers/{offer_id}/tiers", data={"min_deposits": "30", "discount_percent": "85"}).status_code
        == 302
    )
    bird = client.post(f"/offers/{offer_id}/early-birds", data={"first_n": "20", "benefit": "送智能门锁"})
    assert bird.status_code == 302
    promise = client.post(
        f"/offers/{offer_id}/promises", data={"years": "5", "item": "掉漆、门皮起翘、门框变形", "remedy": "免费维修"}
    )
    assert promise.status_code == 302

    page = _text(client.get(f"/offers/{offer_id}"))
    assert "已添加服务承诺" in page
    for expected in (
        "冬季团购",
        world.a.estate_name,
        "2026-12-01 开始 — 2026-12-31 报名截止",
        "2027-01-06",
        "到店交定送五金礼包",
        "¥300.00",
        "88折",
        "85折",
        "前 20 名",
        "送智能门锁",
        "5 年内掉漆、门皮起翘、门框变形免费维修",
        # the world's door at list price and at each tier
        "¥1,980.00",
        "¥1,742.40",
        "¥1,683.00",
    ):
        assert expected in page, expected
    with app.app_context():
        offer = db.session.get(GroupOffer, offer_id)
        assert (offer.dealer_id, offer.estate_id, offer.deposit_amount) == (
            world.a.dealer_id,
            world.a.estate_id,
            Decimal("300.00"),
        )
        assert [(t.min_deposits, t.discount_percent) for t in offer.tiers] == [(10, 88), (30, 85)]
        assert [(b.first_n, b.benefit) for b in offer.early_birds] == [(20, "送智能门锁")]
        assert [(p.years, p.item, p.remedy) for p in offer.promises] == [(5, "掉漆、门皮起翘、门框变形", "免费维修")]

    listing = _text(client.get("/offers/"))
    assert "冬季团购" in listing and "满 10 户 88折，满 30 户 85折" in listing
    filtered = _text(client.get("/offers/", query_string={"estate_id": world.a.estate_id}, headers=HX))
    assert "<html" not in filtered and "冬季团购" in filtered and "甲方专属团购" in filtered


def test_an_invalid_tier_is_refused_with_the_reason_and_nothing_saved(app, world, login):
    client = login(world.a.lead)
    url = f"/offers/{world.a.offer_id}/tiers"
    refused = client.post(url, data={"min_deposits": "20", "discount_percent": "120"}, headers=HX)
    assert refused.status_code == 422
    assert "折扣应在 1 到 100 之间（88 即 88折，100 为原价）" in _text(refused) and "<html" not in _text(refused)
    assert 'value="120"' in _text(refused)  # what was typed comes back to correct
    refused = client.post(url, data={"min_deposits": "10", "discount_percent": "85"})
    assert refused.status_code == 422 and "已有 10 户的档位" in _text(refused) and "<html" in _text(refused)
    refused = client.post(url, data={"min_deposits": "-1", "discount_percent": "85"})
    assert refused.status_code == 422 and "交定户数应在 0 到 100000 之间" in _text(refused)
    refused = client.post(url, data={"min_deposits": "二十", "discount_percent": "85"})
    assert refused.status_code == 422 and "请输入整数" in _text(refused)
    refused = client.post(url, data={"min_deposits": "20", "discount_percent": "90"})
    assert refused.status_code == 422 and "户数越多价格应越低：已有 10 户 88折 的档位" in _text(refused)
    with app.app_context():
        tiers = db.session.scalars(sa.select(OfferTier).where(OfferTier.offer_id == world.a.offer_id)).all()
        assert [(t.min_deposits, t.discount_percent) for t in tiers] == [(10, 88)]


def test_parts_are_edited_deleted_and_reordered(app, world, login):
    client = login(world.a.lead)
    offer_id = world.a.offer_id
    edit_url = f"/offers/tiers/{world.a.tier_id}/edit"
    assert 'value="88"' in _text(client.get(edit_url))
    refused = client.post(edit_url, data={"min_deposits": "10", "discount_percent": "0"})
    assert refused.status_code == 422 and "折扣应在 1 到 100 之间" in _text(refused)
    assert (
        client.post(edit_url, data={"min_deposits": "8", "discount_percent": "90", "note": "8 户成团"}).status_code
        == 302
    )

    added = client.post(
        f"/offers/{offer_id}/promises", data={"years": "1", "item": "不满意", "remedy": "无理由退款"}, headers=HX
    )
    assert added.status_code == 200 and "已添加服务承诺" in _text(added) and "1 年内不满意无理由退款" in _text(added)
    refused = client.post(
        f"/offers/{offer_id}/promises", data={"years": "40", "item": "掉漆", "remedy": "包换"}, headers=HX
    )
    assert refused.status_code == 422 and "年限应在 1 到 30 年之间" in _text(refused)
    with app.app_context():
        second = db.session.scalars(sa.select(RiskPromise.id).where(RiskPromise.item == "不满意")).one()
    moved = client.post(f"/offers/promises/{second}/move", data={"direction": "up"}, headers=HX)
    assert moved.status_code == 200
    body = _text(moved)
    assert body.index("1 年内不满意无理由退款") < body.index("5 年内掉漆、门皮起翘、门框变形免费维修")
    assert client.post(f"/offers/promises/{second}/move", data={"direction": "sideways"}).status_code == 400
    promise_url = f"/offers/promises/{world.a.promise_id}/edit"
    assert client.post(promise_url, data={"years": "8", "item": "门框变形", "remedy": "免费更换"}).status_code == 302

    assert client.post(f"/offers/early-birds/{world.a.early_bird_id}/delete", headers=HX).status_code == 200
    assert client.post(f"/offers/promises/{second}/delete").status_code == 302
    deleted = client.post(f"/offers/tiers/{world.a.tier_id}/delete", headers=HX)
    assert deleted.status_code == 200 and "还没有档位" in _text(deleted)
    with app.app_context():
        offer = db.session.get(GroupOffer, offer_id)
        assert (offer.tiers, offer.early_birds) == ([], [])
        assert [(p.years, p.item, p.remedy, p.position) for p in offer.promises] == [(8, "门框变形", "免费更换", 0)]


def test_editing_and_stopping_an_offer(app, world, login):
    client = login(world.a.lead)
    url = f"/offers/{world.a.offer_id}/edit"
    assert "甲方专属团购" in _text(client.get(url))
    data = {"title": "甲方专属团购（加推）", "starts_on": "2026-11-01", "ends_on": "2026-10-01"}
    refused = client.post(url, data=data)
    assert refused.status_code == 422 and "报名截止不能早于开始日期" in _text(refused)
    assert client.post(url, data={**data, "ends_on": "2027-02-28"}).status_code == 302
    assert client.post(f"/offers/{world.a.offer_id}/deactivate").status_code == 302
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        assert (offer.title, offer.ends_on, offer.is_active) == ("甲方专属团购（加推）", date(2027, 2, 28), False)
    assert "已停用" in _text(client.get(f"/offers/{world.a.offer_id}"))
    assert "甲方专属团购（加推）" not in _text(client.get("/offers/?active=1"))
    assert client.post(f"/offers/{world.a.offer_id}/reactivate").status_code == 302
    with app.app_context():
        assert db.session.get(GroupOffer, world.a.offer_id).is_active


# ---------------------------------------------------------------- the live status


def test_the_detail_page_shows_the_tier_the_recorded_deposits_reach(app, world, login):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        offer = make_offer(estate, TODAY - timedelta(days=5), TODAY + timedelta(days=30), tiers=((10, 88), (30, 85)))
        db.session.commit()
        offer_id = offer.id
    client = login(world.a.lead)
    page = _text(client.get(f"/offers/{offer_id}"))
    assert "已有 0 户交定，暂按原价；再 10 户交定升到 88折" in page

    # Staff enter the group's numbers as usual; the offer follows.
    operator = login(world.a.usernames[Role.OPERATOR])
    metrics = f"/groups/{world.a.group_id}/metrics"
    for day, deposits in ((TODAY - timedelta(days=1), 5), (TODAY, 7)):
        response = operator.post(
            metrics, data={f"g{world.a.group_id}-day": day.isoformat(), f"g{world.a.group_id}-deposits": deposits}
        )
        assert response.status_code == 302
    page = _text(client.get(f"/offers/{offer_id}"))
    assert "已有 12 户交定，当前 88折；再 18 户交定升到 85折" in page
    assert "当前团购价（88折）" in page and "¥1,742.40" in page

    with app.app_context():  # a day before the offer does not count
        groups.record_metrics(
            db.session, db.session.get(Group, world.a.group_id), TODAY - timedelta(days=6), {"deposits": 30}, None
        )
        db.session.commit()
    assert "已有 12 户交定" in _text(client.get(f"/offers/{offer_id}"))
    listing = _text(client.get("/offers/", query_string={"estate_id": world.a.estate_id}))
    assert "测试团购" in listing and "再 18 户交定升到 85折" in listing


# ---------------------------------------------------------------- products


def test_lead_manages_the_product_catalog(app, world, login):
    client = login(world.a.lead)
    data = {
        "name": "静音门",
        "category": "木门",
        "model": "J-1",
        "colour": "白",
        "unit": "樘",
        "unit_price": "2380",
        "tier": "regular",
    }
    assert client.get("/offers/products/new").status_code == 200
    for changes, message in (
        ({"name": ""}, "请填写产品名称"),
        ({"unit_price": ""}, "请填写单价"),
        ({"unit_price": "两千"}, "请输入数字"),
        ({"unit_price": "-5"}, "金额不能小于 0"),
    ):
        refused = client.post("/offers/products/new", data={**data, **changes})
        assert refused.status_code == 422 and message in _text(refused), message
    assert client.post("/offers/products/new", data=data).status_code == 302
    duplicate = client.post("/offers/products/new", data=data)
    assert duplicate.status_code == 422 and "产品库里已有“静音门”（型号 J-1），请换个名称或型号" in _text(duplicate)
    catalog = _text(client.get("/offers/products"))
    assert "静音门" in catalog and "¥2,380.00" in catalog and "常规" in catalog and world.a.product_name in catalog
    with app.app_context():
        product = db.session.scalars(sa.select(Product).where(Product.name == "静音门")).one()
        assert (product.dealer_id, product.unit_price, product.tier) == (
            world.a.dealer_id,
            Decimal("2380.00"),
            ProductTier.REGULAR,
        )
        product_id = product.id

    edit = f"/offers/products/{product_id}/edit"
    assert 'value="2380.00"' in _text(client.get(edit))
    assert client.post(edit, data={**data, "unit_price": "1999.90", "tier": "bait"}).status_code == 302
    assert "¥1,999.90" in _text(client.get(f"/offers/{world.a.offer_id}"))  # the price preview lists it
    assert client.post(f"/offers/products/{product_id}/deactivate").status_code == 302
    assert "已停用产品：静音门" in _text(client.get("/offers/products"))
    assert "静音门" not in _text(client.get(f"/offers/{world.a.offer_id}"))
    assert client.post(f"/offers/products/{product_id}/reactivate").status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.unit_price, product.tier, product.is_active) == (Decimal("1999.90"), ProductTier.BAIT, True)


# ---------------------------------------------------------------- who may do what


def _write_requests(world) -> list[tuple[str, str, dict]]:
    a = world.a
    return [
        ("GET", f"/offers/new?estate_id={a.estate_id}", {}),
        (
            "POST",
            f"/offers/new?estate_id={a.estate_id}",
            {"title": "x", "starts_on": "2027-01-01", "ends_on": "2027-01-02"},
        ),
        ("GET", f"/offers/{a.offer_id}/edit", {}),
        ("POST", f"/offers/{a.offer_id}/deactivate", {}),
        ("POST", f"/offers/{a.offer_id}/tiers", {"min_deposits": "30", "discount_percent": "85"}),
        ("POST", f"/offers/tiers/{a.tier_id}/edit", {"min_deposits": "5", "discount_percent": "90"}),
        ("POST", f"/offers/tiers/{a.tier_id}/delete", {}),
        ("POST", f"/offers/{a.offer_id}/early-birds", {"first_n": "5", "benefit": "送礼"}),
        ("POST", f"/offers/early-birds/{a.early_bird_id}/delete", {}),
        ("POST", f"/offers/{a.offer_id}/promises", {"years": "3", "item": "x", "remedy": "y"}),
        ("POST", f"/offers/promises/{a.promise_id}/move", {"direction": "down"}),
        ("POST", f"/offers/promises/{a.promise_id}/delete", {}),
        ("GET", "/offers/products/new", {}),
        ("POST", "/offers/products/new", {"name": "x", "unit_price": "1", "tier": "regular"}),
        ("POST", f"/offers/products/{a.product_id}/edit", {"name": "x", "unit_price": "1", "tier": "regular"}),
        ("POST", f"/offers/products/{a.product_id}/deactivate", {}),
    ]


@pytest.mark.parametrize("role", [r for r in DEALER_ROLES if r != Role.DEALER_LEAD], ids=lambda r: r.value)
def test_only_the_lead_changes_offers_and_products(app, world, login, role):
    client = login(world.a.usernames[role])
    for method, url, data in _write_requests(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 403, f"{method} {url} → {response.status_code}"
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        assert (offer.is_active, len(offer.tiers), len(offer.early_birds), len(offer.promises)) == (True, 1, 1, 1)
        assert db.session.get(Product, world.a.product_id).is_active
        assert db.session.scalar(sa.select(sa.func.count(EarlyBird.id))) == 2  # the world's two, nothing added


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT], ids=lambda r: r.value)
def test_staff_read_offers_without_the_editing_controls(app, world, login, role):
    client = login(world.a.usernames[role])
    page = _text(client.get(f"/offers/{world.a.offer_id}"))
    assert "甲方专属团购" in page and "88折" in page
    assert "添加档位" not in page and "停用方案" not in page and f"/offers/{world.a.offer_id}/edit" not in page
    catalog = _text(client.get("/offers/products"))
    assert world.a.product_name in catalog and "添加产品" not in catalog
    assert "为楼盘新建团购方案" not in _text(client.get("/offers/"))


def test_installers_and_hq_do_not_see_offers(app, world, login):
    for username in (world.a.usernames[Role.INSTALLER], world.hq_admin, world.hq_viewer):
        client = login(username)
        for url in ("/offers/", "/offers/products", f"/offers/{world.a.offer_id}"):
            assert client.get(url).status_code in (403, 404), f"{username} {url}"
    installer = login(world.a.usernames[Role.INSTALLER])
    assert installer.get(f"/offers/{world.a.offer_id}").status_code == 403


def test_a_new_offer_needs_an_estate_of_ones_own(app, world, login):
    client = login(world.a.lead)
    assert client.get("/offers/new").status_code == 404
    assert client.get(f"/offers/new?estate_id={world.b.estate_id}").status_code == 404
    assert (
        client.post(
            f"/offers/{world.b.offer_id}/tiers", data={"min_deposits": "1", "discount_percent": "99"}
        ).status_code
        == 404
    )


# ---------------------------------------------------------------- queries stay flat


def test_the_offer_list_runs_a_fixed_number_of_queries(app, world, login, count_queries):
    client = login(world.a.lead)

    def listing_queries() -> int:
        with count_queries() as counted:
            response = client.get("/offers/")
            assert response.status_code == 200
        return counted.count

    before = listing_queries()
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        for n in range(4):
            offer = make_offer(
                estate, date(2026, 1 + n, 1), date(2026, 1 + n, 20), tiers=((10, 90), (20, 85)), title=f"批次{n}"
            )
            offer.early_birds.append(EarlyBird(dealer_id=offer.dealer_id, first_n=5, benefit="礼"))
        db.session.commit()
    assert listing_queries() == before
