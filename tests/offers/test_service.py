"""Offers without HTTP: which tier applies, what comes next, early birds, prices to the fen, where the deposit count
comes from, and the writes' refusals (which leave nothing half-saved)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.validation import FieldError
from crm.estates.models import Estate
from crm.extensions import db
from crm.groups.models import Group, GroupMetric
from crm.offers import queries, service
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise
from crm.offers.service import (
    OfferStatus,
    deposit_count,
    deposit_counts,
    discounted,
    early_birds_left,
    next_tier,
    tier_for,
)
from tests.groups.helpers import add_estate, add_group
from tests.offers.helpers import deposit_row, make_offer

START, END = date(2026, 11, 1), date(2027, 1, 31)  # world.a's offer


def _tiers(*pairs) -> list[OfferTier]:
    return [OfferTier(min_deposits=n, discount_percent=p) for n, p in pairs]


def _offer(tiers=(), birds=()) -> GroupOffer:
    return GroupOffer(
        title="t",
        starts_on=START,
        ends_on=END,
        is_active=True,
        tiers=_tiers(*tiers),
        early_birds=[EarlyBird(first_n=n, benefit=b) for n, b in birds],
    )


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("deposits", "expected"),
    [(0, None), (9, None), (10, 88), (11, 88), (29, 88), (30, 85), (31, 85), (500, 85)],
)
def test_the_tier_in_force_is_the_highest_threshold_reached(deposits, expected):
    tiers = _tiers((30, 85), (10, 88))  # given out of order on purpose
    tier = tier_for(tiers, deposits)
    assert (tier.discount_percent if tier else None) == expected


@pytest.mark.parametrize(
    ("deposits", "ahead", "remaining"),
    [(0, 10, 10), (9, 10, 1), (10, 30, 20), (29, 30, 1), (30, None, None), (45, None, None)],
)
def test_the_next_tier_and_how_many_deposits_it_takes(deposits, ahead, remaining):
    offer = _offer(tiers=((10, 88), (30, 85)))
    following = next_tier(offer.tiers, deposits)
    assert (following.min_deposits if following else None) == ahead
    assert OfferStatus(offer, deposits, START).to_next_tier == remaining


@pytest.mark.parametrize(
    ("deposits", "left"),
    [(0, [5, 20]), (4, [5, 20]), (5, [20]), (19, [20]), (20, []), (99, [])],
)
def test_early_birds_stay_open_until_their_first_n_have_paid(deposits, left):
    birds = [EarlyBird(first_n=20, benefit="送门锁"), EarlyBird(first_n=5, benefit="送全屋五金")]
    assert sorted(bird.first_n for bird in early_birds_left(birds, deposits)) == left


@pytest.mark.parametrize(
    ("price", "percent", "expected"),
    [
        ("1980.00", 88, "1742.40"),
        ("999.99", 88, "879.99"),  # 879.9912
        ("1.25", 50, "0.63"),  # 0.625: half up, not to even
        ("0.05", 85, "0.04"),  # 0.0425
        ("3299.00", 100, "3299.00"),
        ("0", 88, "0.00"),
    ],
)
def test_discounted_prices_are_rounded_half_up_to_the_fen(price, percent, expected):
    tier = OfferTier(min_deposits=0, discount_percent=percent)
    assert discounted(Decimal(price), tier) == Decimal(expected)
    assert str(discounted(Decimal(price), tier)) == expected


def test_no_tier_means_list_price():
    assert discounted(Decimal("1980.00"), None) == Decimal("1980.00")


def test_discount_labels(app):
    with app.app_context():
        assert [service.discount_label(p) for p in (88, 90, 85, 95, 100, None, 75)] == [
            "88折",
            "9折",
            "85折",
            "95折",
            "原价",
            "原价",
            "75折",
        ]


# ---------------------------------------------------------------- where the deposits come from


def test_deposit_count_takes_only_the_estates_groups_within_the_period(app, world):
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        group = db.session.get(Group, world.a.group_id)
        db.session.get(GroupMetric, _world_metric_id(group)).deposits = 4  # the world's row, 2026-11-20
        deposit_row(group, START - timedelta(days=1), 5)  # before the offer
        deposit_row(group, START, 3)  # its first day
        deposit_row(group, END, 2)  # its last day
        deposit_row(group, END + timedelta(days=1), 7)  # after it
        elsewhere = add_group(add_estate(world, "甲方别的花园"), "别的花园群")
        deposit_row(elsewhere, date(2026, 12, 1), 6)  # same dealer, another estate
        b_group = db.session.get(Group, world.b.group_id)
        deposit_row(b_group, date(2026, 12, 1), 9)  # another dealer
        db.session.flush()

        assert deposit_count(db.session, offer, date(2027, 3, 1)) == 3 + 4 + 2
        assert deposit_count(db.session, offer, END) == 3 + 4 + 2
        assert deposit_count(db.session, offer, date(2026, 11, 20)) == 3 + 4  # up to today only
        assert deposit_count(db.session, offer, date(2026, 11, 19)) == 3
        assert deposit_count(db.session, offer, START - timedelta(days=1)) == 0  # not started yet

        other = make_offer(db.session.get(Estate, elsewhere.estate_id), START, END, tiers=())
        empty = make_offer(db.session.get(Estate, world.a.estate_id), date(2025, 1, 1), date(2025, 2, 1), tiers=())
        counts = deposit_counts(db.session, [offer, other, empty], date(2027, 3, 1))
        assert counts == {offer.id: 9, other.id: 6, empty.id: 0}
        assert deposit_counts(db.session, [], date(2027, 3, 1)) == {}
        for today in (START - timedelta(days=1), START, date(2026, 11, 19), date(2026, 11, 20), END, date(2027, 3, 1)):
            assert deposit_counts(db.session, [offer], today) == {offer.id: deposit_count(db.session, offer, today)}
        db.session.rollback()


def _world_metric_id(group: Group) -> int:
    return db.session.scalars(sa.select(GroupMetric.id).where(GroupMetric.group_id == group.id)).one()


def test_the_status_follows_the_deposits_across_a_tier(app, world):
    with app.app_context():
        group = db.session.get(Group, world.a.group_id)
        deposit_row(group, START, 9)
        status = service.offer_status(db.session, world.a.estate_id, date(2026, 12, 1))
        assert (status.offer.id, status.deposits, status.tier, status.to_next_tier) == (world.a.offer_id, 9, None, 1)
        assert [bird.first_n for bird in status.early_birds_left] == [20]
        assert status.price(Decimal("1980.00")) == Decimal("1980.00")
        deposit_row(group, START + timedelta(days=1), 1)
        status = service.offer_status(db.session, world.a.estate_id, date(2026, 12, 1))
        assert (status.deposits, status.tier.discount_percent, status.next_tier) == (10, 88, None)
        assert status.price(Decimal("1980.00")) == Decimal("1742.40")
        db.session.rollback()


def test_offer_summary_says_it_in_words(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        offer = db.session.get(GroupOffer, world.a.offer_id)
        service.add_tier(db.session, offer, service.TierFields(30, 85))
        deposit_row(db.session.get(Group, world.a.group_id), START, 12)
        summary = queries.offer_summary(db.session, estate.id, date(2026, 12, 1))
        assert summary.offer.id == offer.id
        assert summary.headline == "已有 12 户交定，当前 88折；再 18 户交定升到 85折"
        assert summary.tier_lines == ["满 10 户 88折", "满 30 户 85折"]
        assert summary.early_bird_lines == ["前 20 名：前 20 名送智能门锁（还剩 8 个名额）"]
        assert summary.promise_lines == ["5 年内掉漆、门皮起翘、门框变形免费维修"]
        assert summary.phase == queries.PHASE_OPEN and summary.phase_label == "报名中"
        product = db.session.get(Product, world.a.product_id)
        [line] = summary.price_lines([product])
        assert line.current == Decimal("1742.40") and line.saving == Decimal("237.60")
        assert [(tier.min_deposits, price) for tier, price in line.by_tier] == [
            (10, Decimal("1742.40")),
            (30, Decimal("1683.00")),
        ]
        assert queries.offer_summary(db.session, world.a.estate_id, date(2027, 3, 1)).phase == queries.PHASE_CLOSED
        service.set_offer_active(db.session, offer, False)
        assert queries.offer_summary(db.session, estate.id, date(2026, 12, 1)) is None  # no active offer left
        db.session.rollback()


# ---------------------------------------------------------------- products


def _product(name="实木门", price="1980", model="", **extra) -> service.ProductFields:
    return service.ProductFields(name=name, unit_price=price, model=model, **extra)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (_product(name="  "), "name", "请填写产品名称"),
        (_product(price=None), "unit_price", "请填写单价"),
        (_product(price="-1"), "unit_price", "金额不能小于 0"),
        (_product(price="abc"), "unit_price", "请输入数字"),
        (_product(price="NaN"), "unit_price", "请输入数字"),
        (_product(price="99999999999"), "unit_price", "金额过大"),
        (_product(unit="一二三四五六七八九十一"), "unit", "不能超过 10 个字"),
    ],
)
def test_product_refusals(app, world, fields, field, message):
    with app.app_context():
        with pytest.raises(FieldError) as refused:
            service.create_product(db.session, world.a.dealer_id, fields)
        assert (refused.value.field, refused.value.message) == (field, message)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 2  # the world's two, nothing more


def test_name_and_model_are_unique_per_dealer_with_a_clear_message(app, world):
    with app.app_context():
        a, b = world.a.dealer_id, world.b.dealer_id
        door = service.create_product(db.session, a, _product("静音门", model="J-1", tier=ProductTier.BAIT))
        assert (door.unit_price, door.tier, door.unit, door.is_active) == (
            Decimal("1980.00"),
            ProductTier.BAIT,
            "件",
            True,
        )
        service.create_product(db.session, a, _product("静音门", model="J-2"))  # another model
        service.create_product(db.session, b, _product("静音门", model="J-1"))  # another dealer
        service.create_product(db.session, a, _product("安装服务"))
        for fields, message in (
            (_product(" 静音门 ", model="J-1"), "产品库里已有“静音门”（型号 J-1），请换个名称或型号"),
            (_product("安装服务"), "产品库里已有“安装服务”（无型号），请换个名称或填写型号"),
        ):
            with pytest.raises(FieldError, match=message):
                service.create_product(db.session, a, fields)
        with pytest.raises(FieldError, match="型号 J-2"):
            service.update_product(db.session, door, _product("静音门", model="J-2"))
        assert (door.name, door.model) == ("静音门", "J-1")  # the refused edit changed nothing
        service.update_product(db.session, door, _product("静音门", model="J-1", price="1799.5"))  # itself is fine
        assert door.unit_price == Decimal("1799.50")
        service.set_product_active(db.session, door, False)
        assert door not in queries.active_products(db.session) and door in queries.products(db.session)
        db.session.rollback()


# ---------------------------------------------------------------- offers and their parts


def _offer_fields(**changes) -> service.OfferFields:
    values = {"title": "春季团购", "starts_on": date(2027, 3, 1), "ends_on": date(2027, 3, 31)}
    values.update(changes)
    return service.OfferFields(**values)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": " "}, "title", "请填写方案名称"),
        ({"starts_on": None}, "starts_on", "请填写开始日期"),
        ({"ends_on": None}, "ends_on", "请填写报名截止日期"),
        ({"ends_on": date(2027, 2, 28)}, "ends_on", "报名截止不能早于开始日期"),
        ({"event_on": date(2027, 2, 28)}, "event_on", "活动日期不能早于开始日期"),
        ({"deposit_amount": "-100"}, "deposit_amount", "金额不能小于 0"),
    ],
)
def test_offer_refusals(app, world, changes, field, message):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        with pytest.raises(FieldError) as refused:
            service.create_offer(db.session, estate, _offer_fields(**changes))
        assert (refused.value.field, refused.value.message) == (field, message)
        offer = db.session.get(GroupOffer, world.a.offer_id)
        with pytest.raises(FieldError):
            service.update_offer(db.session, offer, _offer_fields(**changes))
        assert (offer.title, offer.starts_on, offer.ends_on) == ("甲方专属团购", START, END)  # untouched
        db.session.rollback()


def test_an_offer_may_end_the_day_it_starts_and_hold_its_event_after_the_deadline(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        day = date(2027, 3, 1)
        offer = service.create_offer(
            db.session,
            estate,
            _offer_fields(starts_on=day, ends_on=day, event_on=day + timedelta(days=10), deposit_amount="500"),
        )
        assert (offer.dealer_id, offer.deposit_amount, offer.is_active) == (world.a.dealer_id, Decimal("500.00"), True)
        db.session.rollback()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (service.TierFields(None, 88), "min_deposits", "请填写交定户数"),
        (service.TierFields(-1, 88), "min_deposits", "交定户数应在 0 到 100000 之间"),
        (service.TierFields(20, None), "discount_percent", "请填写折扣"),
        (service.TierFields(20, 0), "discount_percent", "折扣应在 1 到 100 之间（88 即 88折，100 为原价）"),
        (service.TierFields(20, 101), "discount_percent", "折扣应在 1 到 100 之间（88 即 88折，100 为原价）"),
        (service.TierFields(10, 85), "min_deposits", "已有 10 户的档位"),
        (service.TierFields(20, 90), "discount_percent", "户数越多价格应越低：已有 10 户 88折 的档位"),
        (service.TierFields(5, 85), "discount_percent", "户数越多价格应越低：已有 10 户 88折 的档位"),
        (service.TierFields(20, 88), "discount_percent", "户数越多价格应越低：已有 10 户 88折 的档位"),
    ],
)
def test_tier_refusals(app, world, fields, field, message):
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        with pytest.raises(FieldError) as refused:
            service.add_tier(db.session, offer, fields)
        assert (refused.value.field, refused.value.message) == (field, message)
        db.session.rollback()
        offer = db.session.get(GroupOffer, world.a.offer_id)
        assert [(t.min_deposits, t.discount_percent) for t in offer.tiers] == [(10, 88)]


def test_tiers_are_added_edited_and_deleted(app, world):
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        service.add_tier(db.session, offer, service.TierFields(30, 85, " 30 户 "))
        zero = service.add_tier(db.session, offer, service.TierFields(0, 95))
        assert [(t.min_deposits, t.discount_percent, t.note) for t in offer.tiers] == [
            (0, 95, ""),
            (10, 88, "10 户成团"),
            (30, 85, "30 户"),
        ]
        ten = offer.tiers[1]
        service.update_tier(db.session, ten, service.TierFields(10, 87, "10 户成团"))  # its own threshold is fine
        with pytest.raises(FieldError, match="已有 30 户的档位"):
            service.update_tier(db.session, ten, service.TierFields(30, 80))
        assert (ten.min_deposits, ten.discount_percent) == (10, 87)
        service.delete_tier(db.session, zero)
        db.session.commit()
        stored = db.session.scalars(sa.select(OfferTier.min_deposits).where(OfferTier.offer_id == offer.id))
        assert sorted(stored) == [10, 30]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (service.EarlyBirdFields(None, "送门锁"), "first_n", "请填写名额"),
        (service.EarlyBirdFields(0, "送门锁"), "first_n", "名额应在 1 到 100000 之间"),
        (service.EarlyBirdFields(10, "  "), "benefit", "请填写早鸟礼"),
    ],
)
def test_early_bird_refusals(app, world, fields, field, message):
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        with pytest.raises(FieldError) as refused:
            service.add_early_bird(db.session, offer, fields)
        assert (refused.value.field, refused.value.message) == (field, message)


def test_early_birds_are_added_in_order_and_deleted(app, world):
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        first = service.add_early_bird(db.session, offer, service.EarlyBirdFields(5, "送全屋五金"))
        assert [(b.first_n, b.benefit) for b in offer.early_birds] == [(5, "送全屋五金"), (20, "前 20 名送智能门锁")]
        service.delete_early_bird(db.session, first)
        assert [b.first_n for b in offer.early_birds] == [20]
        db.session.rollback()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (service.PromiseFields(" ", 5, "免费维修"), "item", "请填写承诺内容"),
        (service.PromiseFields("掉漆", None, "免费维修"), "years", "请填写年限"),
        (service.PromiseFields("掉漆", 0, "免费维修"), "years", "年限应在 1 到 30 年之间"),
        (service.PromiseFields("掉漆", 31, "免费维修"), "years", "年限应在 1 到 30 年之间"),
        (service.PromiseFields("掉漆", 5, ""), "remedy", "请填写处理方式"),
    ],
)
def test_promise_refusals(app, world, fields, field, message):
    with app.app_context():
        promise = db.session.get(RiskPromise, world.a.promise_id)
        with pytest.raises(FieldError) as refused:
            service.update_promise(db.session, promise, fields)
        assert (refused.value.field, refused.value.message) == (field, message)
        assert (promise.item, promise.years, promise.remedy) == ("掉漆、门皮起翘、门框变形", 5, "免费维修")


def test_promises_keep_their_order_through_moves_and_deletes(app, world):
    with app.app_context():
        offer = db.session.get(GroupOffer, world.a.offer_id)
        first = db.session.get(RiskPromise, world.a.promise_id)
        second = service.add_promise(db.session, offer, service.PromiseFields("不满意", 1, "无理由退款"))
        third = service.add_promise(db.session, offer, service.PromiseFields("安装延期", 1, "每天赔 100 元"))

        def order():
            return [p.id for p in sorted(offer.promises, key=lambda p: p.position)]

        assert order() == [first.id, second.id, third.id]
        service.move_promise(db.session, third, -1)
        assert order() == [first.id, third.id, second.id]
        service.move_promise(db.session, first, -1)  # already first: stays
        assert order() == [first.id, third.id, second.id]
        service.move_promise(db.session, first, 1)
        assert order() == [third.id, first.id, second.id]
        service.delete_promise(db.session, third)
        assert order() == [first.id, second.id] and [p.position for p in offer.promises] == [0, 1]
        db.session.commit()
        positions = db.session.execute(
            sa.select(RiskPromise.id, RiskPromise.position).where(RiskPromise.offer_id == offer.id)
        ).all()
        assert sorted(positions, key=lambda row: row[1]) == [(first.id, 0), (second.id, 1)]
