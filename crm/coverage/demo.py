"""Demo data for HQ's coverage pages, so 覆盖总览 has something to show on first start.

On top of the network the other demo modules build (three dealers, their estates, groups, metrics,
script runs and QQHR's orders), this adds:
  - 有盘不做: in every dealer, a few worked estates with no group whose target clock started 35–70
    days ago (each overdue by a different number of days), and two targeted 5–20 days ago (still fine);
  - 已转化 and 成交榜 beyond QQHR: orders for every other dealer, deposits paid over last month and
    this one, most signed through their sales contract (交定 → 签约) on the day the story says;
  - territory conflicts: 长春 lists one of 齐齐哈尔's estates under the same name ~60 m away
    (unresolved), 哈尔滨 lists another under another spelling, already given to 齐齐哈尔 by HQ;
  - HQ's base-deals table for the catalog's categories and a few decisions on last month's and
    this month's lists (罚 / 扶持 / 忽略).
有群未运营 needs nothing here: each dealer's group still in preparation has no metrics and no script run.

Safe to run again: each part looks for its own rows first (a dealer whose clocks were set, a dealer
with orders, a claim in another dealer's city, a ruling, a category, any decision) and skips if found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.core.models import BUSINESS_TIMEZONE, local_today
from crm.core.roles import Role
from crm.coverage import queries, service
from crm.coverage.models import BaseDealRate, CoverageDecision, DecisionKind, DecisionList, TerritoryAssignment
from crm.estates.models import Estate, EstateStage, normalize_estate_name
from crm.estates.service import EstateFields, create_estate
from crm.groups.models import Group, GroupStatus
from crm.maps.coords import CoordSystem
from crm.orders import service as orders
from crm.orders.models import Order, OrderStatus
from crm.org.models import Dealer, User
from crm.people.models import Person
from crm.proposals.models import Proposal

# Days since the target clock started, per dealer: the first ones are 有盘不做 (past the 30 days), the
# last two are still within them.
TARGET_AGES = {
    "QQHR": ((66, 49, 36), (17, 6)),
    "CC": ((63, 42), (14, 9)),
    "HRB": ((70, 55, 47, 38), (20, 5)),
}
OTHER_TARGET_AGES = ((64, 40), (15, 7))

# Orders of a dealer that has none yet: (month, day of the month the deposit was paid, days until the
# sales contract was signed or None for a deposit only). Days past today are moved to today.
ORDER_STORIES = {
    "CC": (("last", 5, 3), ("last", 16, 6), ("last", 25, None), ("this", 3, 4), ("this", 10, 2)),
    "HRB": (("last", 9, 5), ("this", 2, 3), ("this", 7, 2), ("this", 13, 4), ("this", 19, None)),
}
OTHER_ORDER_STORIES = (("last", 12, 4), ("this", 4, 3))

# Who claims which of QQHR's estates: (claiming dealer, the estate among QQHR's worked ones without a group,
# how the claimant spells the name, metres north and east of QQHR's position, HQ's ruling note or None).
CLAIMS = (
    ("CC", "neglected", 1, None, (40, 45), None),
    (
        "HRB",
        "recent",
        0,
        "·",
        (60, -55),
        "该楼盘在齐齐哈尔经销商的合同区域内，由齐齐哈尔负责建群运营；哈尔滨门店停止跟进，已有的业主线索转给齐齐哈尔。",
    ),
)
METRES_PER_DEGREE_LAT = 111_320

BASE_RATES = (
    ("木门", Decimal("1.5"), "一个运营中的业主群，一期团购平均成交 1.5 户木门订单（2025 年各店复盘的中位数）"),
    ("全屋定制", Decimal("0.8"), "定制决策周期长，一期团购平均 0.8 户；常在木门之后追加"),
    ("服务", Decimal("0.5"), "量尺出图等服务单，每群平均 0.5 单，是到店交定的前一步"),
)


@dataclass(frozen=True)
class Decision:
    month: str  # "last" or "this"
    dealer: str
    list_kind: DecisionList
    position: int  # on the dealer's list for today, as HQ's page orders it
    kind: DecisionKind
    note: str


DECISIONS = (
    Decision(
        "last",
        "CC",
        DecisionList.NEGLECTED,
        0,
        DecisionKind.PENALTY,
        "目标定下一个多月仍未建群，按《经销商社群覆盖管理办法》扣减当月返利 2%。",
    ),
    Decision(
        "last",
        "QQHR",
        DecisionList.SUPPORTED,
        0,
        DecisionKind.SUPPORT,
        "群活跃、团购已成团，总部补贴一场到店活动的物料和到店礼。",
    ),
    Decision(
        "this",
        "QQHR",
        DecisionList.NEGLECTED,
        0,
        DecisionKind.PENALTY,
        "列为目标两个多月没有建群，扣减本月返利 2%，下月复查。",
    ),
    Decision(
        "this",
        "CC",
        DecisionList.SUPPORTED,
        0,
        DecisionKind.SUPPORT,
        "运营节奏好，总部派驻店设计师支持一周，出全套户型方案。",
    ),
    Decision(
        "this",
        "HRB",
        DecisionList.NEGLECTED,
        1,
        DecisionKind.IGNORE,
        "开发商推迟到明年交房，业主群还没形成，本月不处罚。",
    ),
)


def seed_coverage(session: Session, dealers: list[Dealer], today: date | None = None) -> dict[str, int]:
    """Give the demo network what HQ's coverage pages show; return how many rows of each kind were added."""
    today = today or local_today()
    added = {"orders": 0, "targets_dated": 0, "estates": 0, "territory_rulings": 0, "base_rates": 0, "decisions": 0}
    hq = session.scalars(sa.select(User).where(User.role == Role.HQ_ADMIN).order_by(User.id)).first()
    if not dealers or hq is None:
        return added
    th = queries.thresholds(session, dealers[0].brand_id, today)
    for dealer in dealers:
        added["orders"] += _seed_orders(session, dealer, today)
    picks = {dealer.code: _target_picks(session, dealer) for dealer in dealers}
    for dealer in dealers:
        added["targets_dated"] += _date_targets(session, dealer, picks[dealer.code], today)
    by_code = {dealer.code: dealer for dealer in dealers}
    for claimant, kind, index, mark, offset, ruling in CLAIMS:
        owner, claimer = by_code.get("QQHR"), by_code.get(claimant)
        estates = picks.get("QQHR", {}).get(kind, [])
        if owner is None or claimer is None or index >= len(estates):
            continue
        estate = estates[index]
        added["estates"] += _claim(session, claimer, estate, mark, offset)
        if ruling:
            added["territory_rulings"] += _rule(session, th, estate, owner, ruling, hq)
    added["base_rates"] += _seed_base_rates(session, hq)
    added["decisions"] += _seed_decisions(session, th, by_code, hq)
    session.flush()
    return added


# --- 有盘不做: the target clocks ---------------------------------------------------------------


def _target_picks(session: Session, dealer: Dealer) -> dict[str, list[Estate]]:
    """The dealer's worked, positioned estates with no group and no order, by name: the first ones for
    有盘不做, the next two for a recent target (the same estates on every run)."""
    neglected, recent = TARGET_AGES.get(dealer.code, OTHER_TARGET_AGES)
    has_group = sa.select(Group.id).where(Group.estate_id == Estate.id, Group.status != GroupStatus.DISSOLVED)
    has_order = sa.select(Order.id).where(Order.estate_id == Estate.id)
    estates = session.scalars(
        sa.select(Estate)
        .where(
            Estate.dealer_id == dealer.id,
            Estate.city_id == dealer.city_id,
            Estate.stage.in_([stage for stage in EstateStage if stage.is_worked]),
            Estate.lat.is_not(None),
            ~has_group.exists(),
            ~has_order.exists(),
        )
        .order_by(Estate.name_key)
    ).all()
    return {"neglected": estates[: len(neglected)], "recent": estates[len(neglected) : len(neglected) + len(recent)]}


def _entered_on(estate: Estate) -> date:
    return estate.created_at.astimezone(BUSINESS_TIMEZONE).date()


def _date_targets(session: Session, dealer: Dealer, picks: dict[str, list[Estate]], today: date) -> int:
    """Start the chosen estates' target clocks in the past. Done once per dealer: a clock older than
    its estate's row can only come from here."""
    dated_before = any(
        estate.targeted_on is not None and estate.targeted_on < _entered_on(estate)
        for estate in session.scalars(sa.select(Estate).where(Estate.dealer_id == dealer.id))
    )
    if dated_before:
        return 0
    ages = TARGET_AGES.get(dealer.code, OTHER_TARGET_AGES)
    count = 0
    for kind, days in zip(("neglected", "recent"), ages, strict=True):
        for estate, age in zip(picks[kind], days, strict=False):
            estate.targeted_on = today - timedelta(days=age)
            count += 1
    session.flush()
    return count


# --- orders: 已转化 and 成交榜 -----------------------------------------------------------------


def _seed_orders(session: Session, dealer: Dealer, today: date) -> int:
    """Orders for a dealer that has none, in the estate its designers made proposals for (so the items
    and the group price are real), signed through the sales contract on the story's day."""
    if session.scalar(sa.select(Order.id).where(Order.dealer_id == dealer.id)):
        return 0
    lead = session.scalars(
        sa.select(User).where(User.dealer_id == dealer.id, User.role == Role.DEALER_LEAD).order_by(User.id)
    ).first()
    proposal = session.scalars(sa.select(Proposal).where(Proposal.dealer_id == dealer.id).order_by(Proposal.id)).first()
    if lead is None or proposal is None:
        return 0
    # The key person (the first) is the group's owner, not a buyer here.
    buyers = session.scalars(
        sa.select(Person)
        .where(Person.dealer_id == dealer.id, Person.estate_id == proposal.estate_id)
        .order_by(Person.id)
        .offset(1)
    ).all()
    this_month = queries.month_start(today)
    months = {"last": queries.previous_month(this_month), "this": this_month}
    count = 0
    for (month, day, sign_after), buyer in zip(
        ORDER_STORIES.get(dealer.code, OTHER_ORDER_STORIES), buyers, strict=False
    ):
        paid_on = min(months[month] + timedelta(days=day - 1), today)
        order = orders.create_order(
            session,
            buyer,
            orders.OrderFields(
                floor_plan_id=proposal.floor_plan_id,
                deposit_amount="500",
                deposit_paid_on=paid_on,
                deposit_in_store=True,
                delivery_on=paid_on + timedelta(days=30),
                install_on=paid_on + timedelta(days=33),
                building=str(3 + count * 2),
                unit=str(1 + count % 3),
                room=f"{6 + count}0{1 + count % 2}",
            ),
            user=lead,
            today=paid_on,
            proposal_id=proposal.id,
        )
        signed_on = None
        if sign_after is not None:
            signed_on = min(paid_on + timedelta(days=sign_after), today)
            contract = orders.create_sales_contract(session, order, lead)
            orders.sign_contract(session, contract, lead)
            contract.created_at = contract.signed_at = _moment(signed_on, 15)
        _date_history(order, paid_on, signed_on)
        count += 1
    session.flush()
    return count


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 30), tzinfo=BUSINESS_TIMEZONE)


def _date_history(order: Order, paid_on: date, signed_on: date | None) -> None:
    """The order's rows say when it happened in the story: the deposit on its day, the signing on its own."""
    order.created_at = _moment(paid_on, 11)
    for change in order.changes:
        if change.to_status == OrderStatus.DEPOSIT:
            change.at = _moment(paid_on, 11)
        elif change.to_status == OrderStatus.SIGNED and signed_on is not None:
            change.at = _moment(signed_on, 15)


# --- territory conflicts ---------------------------------------------------------------------


def _claim(session: Session, claimer: Dealer, estate: Estate, mark: str | None, offset: tuple[int, int]) -> int:
    """`claimer` lists `estate` (another dealer's, in that dealer's city) as its own, a few metres off.
    Once: a dealer with an estate in that city has made its claim."""
    if session.scalar(sa.select(Estate.id).where(Estate.dealer_id == claimer.id, Estate.city_id == estate.city_id)):
        return 0
    # A spelling of its own ("万达·华府"): the name key, and so HQ's conflict check, sees the same estate.
    name = f"{estate.name[:2]}{mark}{estate.name[2:]}" if mark else estate.name
    if normalize_estate_name(name) != estate.name_key:
        name = estate.name
    north, east = offset
    lat = estate.lat + north / METRES_PER_DEGREE_LAT
    lng = estate.lng + east / (METRES_PER_DEGREE_LAT * math.cos(math.radians(estate.lat)))
    create_estate(
        session,
        claimer.id,
        EstateFields(
            name=name,
            city_id=estate.city_id,
            district=estate.district,
            address=estate.address,
            coord_system=CoordSystem.WGS84,
            lat=round(lat, 6),
            lng=round(lng, 6),
            households=estate.households,
            delivery_date=estate.delivery_date,
            age=estate.age,
            finish=estate.finish,
            avg_price=estate.avg_price,
            developer=estate.developer,
            source="老客户介绍",
            notes="老客户的亲戚在这个小区买了房，想从这里切入",
            stage=EstateStage.TARGET,
        ),
    )
    return 1


def _rule(session: Session, th: queries.Thresholds, estate: Estate, owner: Dealer, note: str, hq: User) -> int:
    exists = session.scalar(
        sa.select(TerritoryAssignment.id).where(
            TerritoryAssignment.city_id == estate.city_id, TerritoryAssignment.name_key == estate.name_key
        )
    )
    if exists:
        return 0
    service.assign_territory(session, th, estate.city_id, estate.name_key, owner.id, note, hq)
    return 1


# --- HQ's tables and decisions ---------------------------------------------------------------


def _seed_base_rates(session: Session, hq: User) -> int:
    """基准成交 for the categories the dealers' catalogs use (a category already given a rate is kept)."""
    categories = set(queries.product_categories(session))
    existing = set(session.scalars(sa.select(BaseDealRate.category)))
    count = 0
    for category, per_group, note in BASE_RATES:
        if category in categories and category not in existing:
            service.save_base_rate(session, service.BaseDealFields(category, per_group, note), hq)
            count += 1
    return count


def _seed_decisions(session: Session, th: queries.Thresholds, by_code: dict[str, Dealer], hq: User) -> int:
    """HQ's decisions on last month's and this month's lists, on estates that are on them today.
    Once: HQ having decided anything means the demo (or HQ itself) has been here."""
    if session.scalar(sa.select(CoverageDecision.id)):
        return 0
    this_month = queries.month_start(th.today)
    months = {"last": queries.previous_month(this_month), "this": this_month}
    count = 0
    for wanted in DECISIONS:
        dealer = by_code.get(wanted.dealer)
        if dealer is None:
            continue
        listed, _total = queries.candidates(
            session, th, wanted.list_kind, months[wanted.month], dealer_id=dealer.id, limit=wanted.position + 1
        )
        if len(listed) <= wanted.position:
            continue
        estate = session.get(Estate, listed[wanted.position].estate.estate_id)
        decision = service.record_decision(
            session, th, estate, months[wanted.month], wanted.list_kind, wanted.kind, wanted.note, hq
        )
        if wanted.month == "last":
            # Decided at the month's review, on its last day.
            decision.decided_at = _moment(this_month - timedelta(days=1), 16)
        count += 1
    session.flush()
    return count
