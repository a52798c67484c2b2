"""覆盖总览 and its drill-down (dealer → city → estate), as HQ reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.models import local_today
from crm.core.roles import DEALER_ROLES
from crm.coverage import queries, service
from crm.coverage.models import DecisionKind, DecisionList
from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.groups.models import GroupMetric, GroupStatus
from crm.groups.service import GroupFields, create_group, record_metrics
from crm.orders.models import Order, OrderItem, OrderStatus
from crm.orders.service import change_status
from crm.org.models import Brand, User
from crm.org.service import DealerFields, create_dealer


@dataclass
class Seeded:
    """What seed_coverage built, beyond the world."""

    today: date
    month: date
    a_neglected_id: int
    a_unplanned_id: int
    b_operating_id: int
    b_idle_id: int
    group_names: list[str]


def seed_coverage(app, world) -> Seeded:
    """A known situation, whatever day the tests run:

    dealer A (齐齐哈尔): its world estate (a group with numbers today, an order with a deposit today) → 已转化;
      甲目标盘 targeted 40 days ago, no group → 目标未建群 and 有盘不做; 甲未规划盘 → 未规划.
    dealer B (长春): its world estate as A's → 已转化, plus two deposits last month and an order signed
      this month (2 × ¥1,000); 乙运营盘 with a group and numbers today → 运营中;
      乙闲置盘 with a silent group → 有群未运营.
    """
    with app.app_context():
        today = local_today()
        month = queries.month_start(today)
        last_month = queries.previous_month(month)
        for dealer_world in (world.a, world.b):
            metric = db.session.scalars(
                sa.select(GroupMetric).where(GroupMetric.group_id == dealer_world.group_id)
            ).one()
            metric.day = today
            db.session.get(Order, dealer_world.order_id).deposit_paid_on = today
        qqhr, cc = world.city_ids["齐齐哈尔"], world.city_ids["长春"]
        a_neglected = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name="甲目标盘", city_id=qqhr, district="建华区", households=800, stage=EstateStage.TARGET),
        )
        a_neglected.targeted_on = today - timedelta(days=40)
        a_unplanned = create_estate(db.session, world.a.dealer_id, EstateFields(name="甲未规划盘", city_id=qqhr))
        b_operating = create_estate(
            db.session,
            world.b.dealer_id,
            EstateFields(
                name="乙运营盘",
                city_id=cc,
                district="朝阳区",
                households=1500,
                developer="万科",
                delivery_date=date(2025, 6, 1),
                stage=EstateStage.TARGET,
            ),
        )
        group = create_group(
            db.session, b_operating, GroupFields(name="乙运营盘王姐的群", status=GroupStatus.OPERATING)
        )
        record_metrics(db.session, group, today, {"members": 80, "owners": 60, "active_members": 20, "joins": 7}, None)
        b_idle = create_estate(db.session, world.b.dealer_id, EstateFields(name="乙闲置盘", city_id=cc))
        idle_group = create_group(
            db.session, b_idle, GroupFields(name="乙闲置盘李哥的群", status=GroupStatus.OPERATING)
        )
        for day in (3, 5):
            db.session.add(
                Order(
                    dealer_id=world.b.dealer_id,
                    person_id=world.b.person_id,
                    estate_id=world.b.estate_id,
                    deposit_amount=Decimal("500"),
                    deposit_paid_on=last_month.replace(day=day),
                )
            )
        signed = Order(dealer_id=world.b.dealer_id, person_id=world.b.person_id, estate_id=world.b.estate_id)
        signed.items.append(
            OrderItem(
                dealer_id=world.b.dealer_id,
                name="木门",
                quantity=Decimal("2"),
                list_price=Decimal("1200"),
                unit_price=Decimal("1000"),
            )
        )
        db.session.add(signed)
        db.session.flush()
        change_status(db.session, signed, OrderStatus.SIGNED, None)
        seeded = Seeded(
            today,
            month,
            a_neglected.id,
            a_unplanned.id,
            b_operating.id,
            b_idle.id,
            [world.a.group_name, world.b.group_name, group.name, idle_group.name],
        )
        db.session.commit()
        db.session.remove()
    return seeded


def personal_markers(world, seeded: Seeded) -> list[str]:
    """What no HQ coverage page or export may show: owners, phones, groups, dealer staff."""
    markers = list(seeded.group_names)
    for dealer_world in (world.a, world.b):
        markers += [dealer_world.person_name, dealer_world.person_phone, dealer_world.person_phone[-4:] + "</"]
        markers += list(dealer_world.usernames.values()) + list(dealer_world.user_display_names.values())
    markers += [world.hq_admin, world.hq_viewer]  # HQ usernames (display names may show as deciders)
    return markers


def squeezed(html: str) -> str:
    return re.sub(r"\s+", "", html)


def dealer_row(html: str, code: str) -> str:
    """The <tr> of one dealer in the table, whitespace dropped."""
    rows = re.findall(r"<tr>(.*?)</tr>", squeezed(html), flags=re.S)
    [row] = [row for row in rows if f'<spanclass="muted">{code}</span>' in row]
    return row


def cells(row: str) -> list[str]:
    """The text of each cell, tags dropped."""
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]


@pytest.fixture
def seeded(app, world) -> Seeded:
    return seed_coverage(app, world)


# --- the dealer table ---------------------------------------------------------------------------


def test_the_dealer_table_counts_each_status_and_its_rates(world, seeded, login):
    html = login(world.hq_admin).get("/hq/coverage/").get_data(as_text=True)

    # 经销商, 城市, 楼盘, 目标, 有群, 运营中, 已转化, 有盘不做, 目标率, 建群率, 运营率, 转化率,
    # 本月交定, 较上月, 本月成交, 较上月, 成交额
    a = cells(dealer_row(html, "AAA"))
    assert a[1:12] == ["齐齐哈尔", "3", "2", "1", "1", "1", "1", "66.7%", "50.0%", "100.0%", "50.0%"]
    assert a[12:] == ["1", "▲+1较上月+1", "0", "—与上月持平", "¥0.00"]
    b = cells(dealer_row(html, "BBB"))
    assert b[1:12] == ["长春", "3", "3", "3", "2", "1", "0", "100.0%", "100.0%", "66.7%", "33.3%"]
    assert b[12:] == ["1", "▼−1较上月−1", "1", "▲+1较上月+1", "¥2,000.00"]
    # The footer: the whole network.
    footer = cells(re.search(r"<tfoot>(.*?)</tfoot>", squeezed(html)).group(1))
    assert footer == ["全网合计（2家）", "6", "5", "4", "3", "2", "1", "83.3%", "80.0%", "75.0%", "40.0%"] + [
        "2",
        "—与上月持平",
        "1",
        "▲+1较上月+1",
        "¥2,000.00",
    ]


def test_the_summary_strip_counts_estates_per_status(world, seeded, login):
    html = squeezed(login(world.hq_viewer).get("/hq/coverage/").get_data(as_text=True))
    strip = re.search(r'<ulclass="status-strip".*?</ul>', html).group(0)
    found = re.findall(r'<spanclass="num">(\d+)</span><spanclass="statusstatus-(\w+)">', strip)
    counts = {status: count for count, status in found}
    assert counts == {
        "unplanned": "1",
        "target_no_group": "1",
        "group_idle": "1",
        "operating": "1",
        "converted": "2",
    }


def test_a_rate_without_a_base_shows_a_dash(app, world, login):
    with app.app_context():
        brand = db.session.scalars(sa.select(Brand)).first()
        create_dealer(db.session, brand, DealerFields(code="EMPTY", name="空白经销商", city_id=world.city_ids["长春"]))
        db.session.commit()
    row = cells(dealer_row(login(world.hq_admin).get("/hq/coverage/").get_data(as_text=True), "EMPTY"))
    assert row[2:12] == ["0"] * 6 + ["—"] * 4


def test_sorting_by_a_column_in_both_directions(world, seeded, login):
    client = login(world.hq_admin)

    def order(query: str) -> list[str]:
        html = client.get(f"/hq/coverage/?{query}").get_data(as_text=True)
        return re.findall(r'<span class="muted">(AAA|BBB)</span>', html)

    assert order("") == ["AAA", "BBB"]  # by name by default
    assert order("sort=with_group&dir=desc") == ["BBB", "AAA"]
    assert order("sort=with_group&dir=asc") == ["AAA", "BBB"]
    assert order("sort=neglected&dir=desc") == ["AAA", "BBB"]
    assert order("sort=deposits_trend&dir=desc") == ["AAA", "BBB"]
    assert order("sort=orders&dir=desc") == ["BBB", "AAA"]
    assert order("sort=name&dir=desc") == ["BBB", "AAA"]
    assert order("sort=nonsense&dir=desc") == ["BBB", "AAA"]  # unknown column: by name


def test_the_active_column_says_its_order_and_its_link_reverses_it(world, seeded, login):
    html = login(world.hq_admin).get("/hq/coverage/?sort=operating&dir=desc").get_data(as_text=True)
    [active] = re.findall(r'<th[^>]*aria-sort="(\w+)"[^>]*>\s*<a href="([^"]+)"', html)
    assert active[0] == "descending"
    assert "sort=operating" in active[1] and "dir=asc" in active[1]
    assert html.count("aria-sort=") == 1
    # Another column sorts largest first; the export keeps the page's order.
    assert re.search(r'href="[^"]*sort=converted&amp;dir=desc', html) or re.search(
        r'href="[^"]*dir=desc[^"]*sort=converted', html
    )
    export = re.search(r'href="([^"]*export\.xlsx[^"]*)"', html).group(1)
    assert "sort=operating" in export and "dir=desc" in export and f"month={seeded.month:%Y-%m}" in export


def test_month_picker_shows_the_month_asked_for(world, seeded, login):
    last = queries.previous_month(seeded.month)
    html = login(world.hq_admin).get(f"/hq/coverage/?month={last:%Y-%m}").get_data(as_text=True)
    assert f'value="{last:%Y-%m}"' in html
    # Last month B took two deposits (▲ against the month before), A none.
    assert cells(dealer_row(html, "BBB"))[12:14] == ["2", "▲+2较上月+2"]
    assert cells(dealer_row(html, "AAA"))[12] == "0"


def test_the_table_links_down_to_dealers_and_to_the_neglected_list(world, seeded, login):
    html = login(world.hq_admin).get("/hq/coverage/").get_data(as_text=True)
    assert f'href="/hq/coverage/dealers/{world.a.dealer_id}?month={seeded.month:%Y-%m}"' in html
    assert f'href="/hq/coverage/dealers/{world.b.dealer_id}?month={seeded.month:%Y-%m}"' in html
    assert re.search(rf'href="/hq/coverage/neglected\?dealer_id={world.a.dealer_id}[^"]*"[^>]*>\s*1\s*</a>', html)
    assert f"neglected?dealer_id={world.b.dealer_id}" not in html  # nothing to list for B
    assert "/hq/coverage/export.xlsx" in html and "/hq/coverage/report.pdf" in html


# --- the drill-down -----------------------------------------------------------------------------


def test_a_dealer_page_shows_its_cities(app, world, seeded, login):
    with app.app_context():  # A also has an estate in 长春
        create_estate(db.session, world.a.dealer_id, EstateFields(name="甲长春盘", city_id=world.city_ids["长春"]))
        db.session.commit()
    html = login(world.hq_viewer).get(f"/hq/coverage/dealers/{world.a.dealer_id}").get_data(as_text=True)
    assert world.a.dealer_name in html
    rows = {cells(row)[0]: cells(row) for row in re.findall(r"<tr>(.*?)</tr>", squeezed(html), flags=re.S)[1:]}
    assert rows["齐齐哈尔黑龙江省"][1:7] == ["3", "2", "1", "1", "1", "1"]
    assert rows["长春吉林省"][1:7] == ["1", "0", "0", "0", "0", "0"]
    qqhr = world.city_ids["齐齐哈尔"]
    assert f'href="/hq/coverage/dealers/{world.a.dealer_id}/cities/{qqhr}"' in html
    assert world.b.dealer_name not in html


def test_a_city_page_lists_the_dealers_estates_there(world, seeded, login):
    qqhr = world.city_ids["齐齐哈尔"]
    html = login(world.hq_admin).get(f"/hq/coverage/dealers/{world.a.dealer_id}/cities/{qqhr}").get_data(as_text=True)
    rows = {cells(row)[0]: cells(row) for row in re.findall(r"<tr>(.*?)</tr>", squeezed(html), flags=re.S)[1:]}
    assert set(rows) == {"甲未规划盘", "甲目标盘", world.a.estate_name}
    neglected = rows["甲目标盘"]
    assert neglected[1:4] == ["建华区", "800", "目标未建群有盘不做·已目标40天"]
    assert neglected[4:6] == ["0", "0"]
    assert neglected[7] == (seeded.today - timedelta(days=40)).isoformat()
    converted = rows[world.a.estate_name]
    assert converted[3] == "已转化" and converted[4:7] == ["1", "1", seeded.today.isoformat()]
    assert f'href="/hq/coverage/estates/{seeded.a_neglected_id}"' in html
    assert "/hq/coverage/map?city_id=" in html


def test_a_city_that_does_not_exist_is_404(world, login):
    response = login(world.hq_admin).get(f"/hq/coverage/dealers/{world.a.dealer_id}/cities/999999")
    assert response.status_code == 404


def test_an_estate_page_shows_facts_coverage_and_decisions(app, world, seeded, login):
    with app.app_context():
        admin = db.session.scalars(sa.select(User).where(User.username == world.hq_admin)).one()
        estate = db.session.get(Estate, seeded.b_operating_id)
        th = queries.thresholds(db.session, None, seeded.today)
        service.record_decision(
            db.session, th, estate, seeded.month, DecisionList.SUPPORTED, DecisionKind.SUPPORT, "建群快，给物料", admin
        )
        db.session.commit()
    html = login(world.hq_viewer).get(f"/hq/coverage/estates/{seeded.b_operating_id}").get_data(as_text=True)
    facts = squeezed(html)
    for fact in ["乙运营盘", "长春朝阳区", "1,500", "2025-06", "万科", "BBB乙经销商", "运营中"]:
        assert fact in facts
    assert f"<dt>最近运营日</dt><dd>{seeded.today.isoformat()}</dd>" in facts
    assert "<dt>群数</dt><dd>1</dd>" in facts and "<dt>订单数</dt><dd>0</dd>" in facts
    # HQ's decision, with who (HQ staff by display name) and when.
    assert "有盘有群有运营" in facts and "扶持" in facts and "建群快，给物料" in facts and "总部管理员" in facts
    assert f'href="/hq/coverage/map?city_id={world.city_ids["长春"]}"' in html


def test_an_estate_page_counts_the_days_targeted(world, seeded, login):
    facts = squeezed(login(world.hq_admin).get(f"/hq/coverage/estates/{seeded.a_neglected_id}").get_data(as_text=True))
    assert "<dt>已目标天数</dt><dd>40天</dd>" in facts
    assert "有盘不做" in facts and "总部还没有对这个楼盘做过决定" in facts


# --- who may read it, and what it never shows ----------------------------------------------------


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_dealer_users_get_403_on_the_table_and_their_own_drill_down(world, login, role):
    client = login(world.a.usernames[role])
    qqhr = world.city_ids["齐齐哈尔"]
    for url in [
        "/hq/coverage/",
        "/hq/coverage/export.xlsx",
        "/hq/coverage/report.pdf",
        f"/hq/coverage/dealers/{world.a.dealer_id}",
        f"/hq/coverage/dealers/{world.a.dealer_id}/cities/{qqhr}",
        f"/hq/coverage/estates/{world.a.estate_id}",
    ]:
        assert client.get(url).status_code == 403, url


def test_dealer_users_get_404_on_another_dealers_pages(world, login):
    client = login(world.a.lead)
    cc = world.city_ids["长春"]
    for url in [
        f"/hq/coverage/dealers/{world.b.dealer_id}",
        f"/hq/coverage/dealers/{world.b.dealer_id}/cities/{cc}",
        f"/hq/coverage/estates/{world.b.estate_id}",
    ]:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("username", ["hq_admin", "hq_viewer"])
def test_no_page_shows_personal_data(world, seeded, login, username):
    client = login(username)
    urls = [
        "/hq/coverage/",
        "/hq/coverage/?sort=orders&dir=desc",
        f"/hq/coverage/dealers/{world.a.dealer_id}",
        f"/hq/coverage/dealers/{world.b.dealer_id}",
        f"/hq/coverage/dealers/{world.a.dealer_id}/cities/{world.city_ids['齐齐哈尔']}",
        f"/hq/coverage/dealers/{world.b.dealer_id}/cities/{world.city_ids['长春']}",
    ] + [
        f"/hq/coverage/estates/{estate_id}"
        for estate_id in (world.a.estate_id, world.b.estate_id, seeded.b_operating_id, seeded.b_idle_id)
    ]
    markers = personal_markers(world, seeded)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        shown = [marker for marker in markers if marker in html]
        assert not shown, f"{url} shows {shown}"


def test_the_query_count_does_not_grow_with_the_dealers(app, world, seeded, login, count_queries):
    client = login(world.hq_viewer)
    client.get("/hq/coverage/")  # warm up (first-request work)
    with count_queries() as two_dealers:
        assert client.get("/hq/coverage/").status_code == 200
    with app.app_context():
        brand = db.session.scalars(sa.select(Brand)).first()
        for n in range(4):
            dealer = create_dealer(
                db.session, brand, DealerFields(code=f"X{n}", name=f"新经销商{n}", city_id=world.city_ids["长春"])
            )
            create_estate(
                db.session,
                dealer.id,
                EstateFields(name=f"新盘{n}", city_id=world.city_ids["长春"], stage=EstateStage.TARGET),
            )
        db.session.commit()
    with count_queries() as six_dealers:
        html = client.get("/hq/coverage/").get_data(as_text=True)
    assert "新经销商3" in html
    assert six_dealers.count == two_dealers.count, "\n".join(six_dealers.statements)


def test_hq_viewer_reads_everything(world, seeded, login):
    client = login(world.hq_viewer)
    for url in [
        "/hq/coverage/",
        f"/hq/coverage/dealers/{world.b.dealer_id}",
        f"/hq/coverage/dealers/{world.b.dealer_id}/cities/{world.city_ids['长春']}",
        f"/hq/coverage/estates/{seeded.b_idle_id}",
    ]:
        assert client.get(url).status_code == 200, url
