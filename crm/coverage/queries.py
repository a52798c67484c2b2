"""Coverage (有盘有群有运营) derived from the data, for HQ: every query here aggregates in the database.

An estate's status, in pipeline order:
  已转化      it has an order that is not cancelled;
  运营中      it has a live group (not dissolved) that reported metrics or had a script task done
              within the last `active_days` days (today counts as the first);
  有群未运营  it has a live group, worked or not;
  目标未建群  the dealer works it (stage past 未规划, not 放弃) but it has no live group;
  未规划      none of the above.
A 目标未建群 estate targeted more than `neglect_days` days ago is 有盘不做.

Every function runs a fixed number of queries whatever the number of dealers, estates or groups,
and returns estate facts and counts only: never people's names, phones or addresses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from crm.core.models import BUSINESS_TIMEZONE
from crm.coverage.models import (
    DEFAULT_ACTIVE_DAYS,
    DEFAULT_CONFLICT_RADIUS_M,
    DEFAULT_NEGLECT_DAYS,
    BaseDealRate,
    CoverageDecision,
    CoverageSettings,
    CoverageStatus,
    DecisionList,
    TerritoryAssignment,
)
from crm.estates.models import City, Estate, EstateStage
from crm.groups.models import Group, GroupMetric, GroupStatus
from crm.maps.coords import distance_m
from crm.offers.models import Product
from crm.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange
from crm.org.models import Dealer
from crm.scripts.models import ScriptRun, ScriptTask, TaskStatus

_WORKED_STAGES = [stage.value for stage in EstateStage if stage.is_worked]


# --- settings and the calendar -------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """The day coverage is judged on and the brand's thresholds."""

    today: date
    neglect_days: int = DEFAULT_NEGLECT_DAYS
    active_days: int = DEFAULT_ACTIVE_DAYS
    conflict_radius_m: int = DEFAULT_CONFLICT_RADIUS_M

    @property
    def active_since(self) -> date:
        """The first day whose activity still counts: with 14 days, today and the 13 before."""
        return self.today - timedelta(days=self.active_days - 1)

    @property
    def neglected_if_targeted_before(self) -> date:
        """Targeted before this day (more than `neglect_days` days ago) with no group: 有盘不做."""
        return self.today - timedelta(days=self.neglect_days)


def settings_row(session: Session, brand_id: int) -> CoverageSettings | None:
    return session.scalars(sa.select(CoverageSettings).where(CoverageSettings.brand_id == brand_id)).first()


def thresholds(session: Session, brand_id: int | None, today: date) -> Thresholds:
    """The brand's saved thresholds for `today`, or the defaults."""
    row = settings_row(session, brand_id) if brand_id is not None else None
    if row is None:
        return Thresholds(today=today)
    return Thresholds(
        today=today,
        neglect_days=row.neglect_days,
        active_days=row.active_days,
        conflict_radius_m=row.conflict_radius_m,
    )


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _utc_midnight(day: date) -> datetime:
    """The UTC instant the local (Beijing) day starts, to compare with UTC timestamps."""
    return datetime(day.year, day.month, day.day, tzinfo=BUSINESS_TIMEZONE).astimezone(UTC)


# --- the status of every estate ------------------------------------------------------------------


def _live_groups(th: Thresholds) -> sa.Subquery:
    """Per estate with live groups: how many, and the last day in the active window on which one of them
    reported metrics (`reported_on`) or had a script task done (`scripted_on`); None when it had none.

    Activity is gathered per group first (an index-only scan of the window's metric rows), then per
    estate together with the groups: one subquery for the planners to join instead of two."""
    reported = (
        sa.select(GroupMetric.group_id, sa.func.max(GroupMetric.day).label("last_day"))
        .where(GroupMetric.day >= th.active_since, GroupMetric.day <= th.today)
        .group_by(GroupMetric.group_id)
        .subquery("reported")
    )
    scripted = (
        sa.select(ScriptRun.group_id, sa.func.max(ScriptTask.finished_on).label("last_day"))
        .join(ScriptTask, ScriptTask.run_id == ScriptRun.id)
        .where(
            ScriptTask.status == TaskStatus.DONE,
            ScriptTask.finished_on >= th.active_since,
            ScriptTask.finished_on <= th.today,
        )
        .group_by(ScriptRun.group_id)
        .subquery("scripted")
    )
    return (
        sa.select(
            Group.estate_id,
            sa.func.count().label("groups"),
            sa.func.max(reported.c.last_day).label("reported_on"),
            sa.func.max(scripted.c.last_day).label("scripted_on"),
        )
        .outerjoin(reported, reported.c.group_id == Group.id)
        .outerjoin(scripted, scripted.c.group_id == Group.id)
        .where(Group.status != GroupStatus.DISSOLVED)
        .group_by(Group.estate_id)
        .subquery("live_groups")
    )


def _ordered() -> sa.Subquery:
    return (
        sa.select(Order.estate_id, sa.func.count().label("orders"))
        .where(Order.status != OrderStatus.CANCELLED)
        .group_by(Order.estate_id)
        .subquery("ordered")
    )


def _estate_facts() -> tuple:
    """The estate's own columns at the head of every status row."""
    return (
        Estate.id.label("estate_id"),
        Estate.dealer_id,
        Estate.city_id,
        Estate.name,
        Estate.name_key,
        Estate.district,
        Estate.households,
        Estate.lat,
        Estate.lng,
        Estate.targeted_on,
    )


def _targeted_long_ago(th: Thresholds) -> sa.ColumnElement[bool]:
    """有盘不做 but for the group and the order: worked, targeted longer ago than the threshold, and not an
    estate HQ gave to another dealer."""
    return sa.and_(
        Estate.stage.in_(_WORKED_STAGES),
        Estate.targeted_on < th.neglected_if_targeted_before,
        ~_given_to_another(),
    )


def estate_status_query(th: Thresholds) -> sa.Subquery:
    """One row per visible estate: its facts, flags and derived coverage status."""
    groups, ordered = _live_groups(th), _ordered()
    has_group = groups.c.groups.is_not(None)
    is_active = sa.or_(groups.c.reported_on.is_not(None), groups.c.scripted_on.is_not(None))
    last_active_on = sa.case(
        (sa.or_(groups.c.scripted_on.is_(None), groups.c.reported_on >= groups.c.scripted_on), groups.c.reported_on),
        else_=groups.c.scripted_on,
    )
    has_order = ordered.c.orders.is_not(None)
    is_worked = Estate.stage.in_(_WORKED_STAGES)
    status = sa.case(
        (has_order, CoverageStatus.CONVERTED.value),
        (is_active, CoverageStatus.OPERATING.value),
        (has_group, CoverageStatus.GROUP_IDLE.value),
        (is_worked, CoverageStatus.TARGET_NO_GROUP.value),
        else_=CoverageStatus.UNPLANNED.value,
    )
    neglected = sa.and_(~has_order, ~has_group, _targeted_long_ago(th))
    return (
        sa.select(
            *_estate_facts(),
            status.label("status"),
            sa.case((neglected, 1), else_=0).label("neglected"),
            sa.case((has_group, 1), else_=0).label("has_group"),
            sa.case((is_active, 1), else_=0).label("operating"),
            sa.case((has_order, 1), else_=0).label("converted"),
            sa.case((sa.or_(is_worked, has_group, has_order), 1), else_=0).label("targeted"),
            sa.func.coalesce(groups.c.groups, 0).label("groups"),
            sa.func.coalesce(ordered.c.orders, 0).label("orders"),
            last_active_on.label("last_active_on"),
        )
        .outerjoin(groups, groups.c.estate_id == Estate.id)
        .outerjoin(ordered, ordered.c.estate_id == Estate.id)
        .subquery("estate_status")
    )


# --- the dealer table ----------------------------------------------------------------------------


@dataclass
class CoverageCounts:
    surveyed: int = 0
    targeted: int = 0
    with_group: int = 0
    operating: int = 0
    converted: int = 0
    neglected: int = 0
    by_status: dict[CoverageStatus, int] = field(default_factory=lambda: dict.fromkeys(CoverageStatus, 0))

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def target_rate(self) -> float | None:
        return self._rate(self.targeted, self.surveyed)

    @property
    def group_rate(self) -> float | None:
        """建群率: targeted estates that have a group."""
        return self._rate(self.with_group, self.targeted)

    @property
    def operating_rate(self) -> float | None:
        """运营率: estates with a group that are worked."""
        return self._rate(self.operating, self.with_group)

    @property
    def conversion_rate(self) -> float | None:
        """转化率: targeted estates with an order."""
        return self._rate(self.converted, self.targeted)


@dataclass
class MonthFigures:
    deposits: int = 0
    orders: int = 0
    amount: Decimal = Decimal("0")
    new_members: int = 0


@dataclass
class CoverageRow:
    """One line of a coverage table: a dealer, or one city of a dealer."""

    key: int
    name: str
    code: str = ""
    city: str = ""
    counts: CoverageCounts = field(default_factory=CoverageCounts)
    this_month: MonthFigures = field(default_factory=MonthFigures)
    last_month: MonthFigures = field(default_factory=MonthFigures)

    def trend(self, figure: str) -> int:
        return getattr(self.this_month, figure) - getattr(self.last_month, figure)


SORT_KEYS = {
    "name": lambda row: row.code or row.name,
    "surveyed": lambda row: row.counts.surveyed,
    "targeted": lambda row: row.counts.targeted,
    "with_group": lambda row: row.counts.with_group,
    "operating": lambda row: row.counts.operating,
    "converted": lambda row: row.counts.converted,
    "neglected": lambda row: row.counts.neglected,
    "target_rate": lambda row: row.counts.target_rate or 0,
    "group_rate": lambda row: row.counts.group_rate or 0,
    "operating_rate": lambda row: row.counts.operating_rate or 0,
    "conversion_rate": lambda row: row.counts.conversion_rate or 0,
    "deposits": lambda row: row.this_month.deposits,
    "orders": lambda row: row.this_month.orders,
    "deposits_trend": lambda row: row.trend("deposits"),
    "orders_trend": lambda row: row.trend("orders"),
}


def sort_rows(rows: list[CoverageRow], sort: str, descending: bool) -> list[CoverageRow]:
    """Rows ordered by a known column (unknown ones fall back to the name), ties by name."""
    key = SORT_KEYS.get(sort, SORT_KEYS["name"])
    rows = sorted(rows, key=SORT_KEYS["name"])
    return sorted(rows, key=key, reverse=descending)


def _counts_by(session: Session, th: Thresholds, *keys: str, where=()) -> dict[tuple, CoverageCounts]:
    """Counts per `keys`, and per status within them, in one pass over the estates."""
    status = estate_status_query(th)
    columns = [status.c[key] for key in keys]
    query = (
        sa.select(
            *columns,
            sa.func.count().label("surveyed"),
            sa.func.sum(status.c.targeted),
            sa.func.sum(status.c.has_group),
            sa.func.sum(status.c.operating),
            sa.func.sum(status.c.converted),
            sa.func.sum(status.c.neglected),
            # with these two the flags give the count per status (cheaper than the status expression per status)
            sa.func.sum(status.c.has_group * status.c.converted),
            sa.func.sum(status.c.operating * status.c.converted),
        )
        .where(*[condition(status) for condition in where])
        .group_by(*columns)
    )
    result = {}
    for row in session.execute(query):
        numbers = [int(value or 0) for value in row[len(keys) :]]
        counts = CoverageCounts(*numbers[:6])
        group_converted, operating_converted = numbers[6:]
        operating = counts.operating - operating_converted  # 运营中: worked recently, no order yet
        idle = counts.with_group - group_converted - operating  # 有群未运营: a group, neither worked nor ordered
        counts.by_status = {
            CoverageStatus.UNPLANNED: counts.surveyed - counts.targeted,
            CoverageStatus.TARGET_NO_GROUP: counts.targeted - counts.with_group - counts.converted + group_converted,
            CoverageStatus.GROUP_IDLE: idle,
            CoverageStatus.OPERATING: operating,
            CoverageStatus.CONVERTED: counts.converted,
        }
        result[tuple(row[: len(keys)])] = counts
    return result


def _month_figures(
    session: Session, first: date, by_city: bool = False, dealer_id: int | None = None, members: bool = True
) -> dict[tuple, MonthFigures]:
    """Deposits paid, orders signed (and their amount) and new group members in the month from `first`.

    Deposits and orders come from the order records; new members from the groups' daily numbers.
    Keys are (dealer_id,) or, with `by_city`, (dealer_id, city_id) of the estate.
    """
    end = next_month(first)
    figures: dict[tuple, MonthFigures] = defaultdict(MonthFigures)

    def keyed(query, *extra_where):
        columns = [Estate.dealer_id] + ([Estate.city_id] if by_city else [])
        query = query.add_columns(*columns).group_by(*columns).where(*extra_where)
        if dealer_id is not None:
            query = query.where(Estate.dealer_id == dealer_id)
        return query

    deposits = keyed(
        sa.select(sa.func.count(Order.id))
        .join(Estate, Estate.id == Order.estate_id)
        .where(
            Order.status != OrderStatus.CANCELLED,
            Order.deposit_paid_on >= first,
            Order.deposit_paid_on < end,
        )
    )
    for count, *key in session.execute(deposits):
        figures[tuple(key)].deposits = count

    signed = (
        sa.select(OrderStatusChange.order_id)
        .where(
            OrderStatusChange.to_status == OrderStatus.SIGNED,
            OrderStatusChange.at >= _utc_midnight(first),
            OrderStatusChange.at < _utc_midnight(end),
        )
        .distinct()
        .subquery("signed")
    )
    amounts = (
        sa.select(OrderItem.order_id, sa.func.sum(OrderItem.quantity * OrderItem.unit_price).label("amount"))
        .group_by(OrderItem.order_id)
        .subquery("amounts")
    )
    orders = keyed(
        sa.select(sa.func.count(Order.id), sa.func.coalesce(sa.func.sum(amounts.c.amount), 0))
        .join(signed, signed.c.order_id == Order.id)
        .join(Estate, Estate.id == Order.estate_id)
        .outerjoin(amounts, amounts.c.order_id == Order.id)
        .where(Order.status != OrderStatus.CANCELLED)
    )
    for count, amount, *key in session.execute(orders):
        figures[tuple(key)].orders = count
        figures[tuple(key)].amount = Decimal(amount).quantize(Decimal("0.01"))

    if not members:
        return figures
    in_month = [GroupMetric.day >= first, GroupMetric.day < end]
    if dealer_id is not None:
        in_month.append(GroupMetric.dealer_id == dealer_id)
    if by_city:
        joins = (
            sa.select(sa.func.coalesce(sa.func.sum(GroupMetric.joins), 0), GroupMetric.dealer_id, Estate.city_id)
            .join(Group, Group.id == GroupMetric.group_id)
            .join(Estate, Estate.id == Group.estate_id)
            .where(*in_month)
            .group_by(GroupMetric.dealer_id, Estate.city_id)
        )
    else:
        # A metric row carries its group's dealer: no join, an index-only scan of the month's rows.
        joins = (
            sa.select(sa.func.coalesce(sa.func.sum(GroupMetric.joins), 0), GroupMetric.dealer_id)
            .where(*in_month)
            .group_by(GroupMetric.dealer_id)
        )
    for count, *key in session.execute(joins):
        figures[tuple(key)].new_members = int(count)
    return figures


def dealer_table(session: Session, th: Thresholds, month: date) -> list[CoverageRow]:
    """Every dealer with its coverage counts and this and last month's figures (unsorted)."""
    counts = _counts_by(session, th, "dealer_id")
    # The table shows deposits and orders; new members are the leaderboard's (a scan of every metric row).
    this_month = _month_figures(session, month, members=False)
    last_month = _month_figures(session, previous_month(month), members=False)
    dealers = session.execute(
        sa.select(Dealer.id, Dealer.code, Dealer.name, City.name).join(City, City.id == Dealer.city_id)
    )
    return [
        CoverageRow(
            key=dealer_id,
            name=name,
            code=code,
            city=city,
            counts=counts.get((dealer_id,), CoverageCounts()),
            this_month=this_month.get((dealer_id,), MonthFigures()),
            last_month=last_month.get((dealer_id,), MonthFigures()),
        )
        for dealer_id, code, name, city in dealers
    ]


def network_totals(rows: list[CoverageRow]) -> CoverageRow:
    """The sum of a table's rows (the table's footer)."""
    total = CoverageRow(key=0, name="")
    for row in rows:
        for part in ("counts", "this_month", "last_month"):
            target, source = getattr(total, part), getattr(row, part)
            for name in source.__dataclass_fields__:
                value = getattr(source, name)
                if isinstance(value, dict):
                    for key, number in value.items():
                        getattr(target, name)[key] += number
                else:
                    setattr(target, name, getattr(target, name) + value)
    return total


def dealer_cities(session: Session, th: Thresholds, dealer_id: int, month: date) -> list[CoverageRow]:
    """One dealer's coverage per city its estates are in."""
    counts = _counts_by(session, th, "city_id", where=[lambda status: status.c.dealer_id == dealer_id])
    this_month = _month_figures(session, month, by_city=True, dealer_id=dealer_id)
    last_month = _month_figures(session, previous_month(month), by_city=True, dealer_id=dealer_id)
    cities = {
        city_id: (name, province)
        for city_id, name, province in session.execute(
            sa.select(City.id, City.name, City.province).where(City.id.in_([key[0] for key in counts]))
        )
    }
    rows = []
    for (city_id,), city_counts in counts.items():
        name, province = cities[city_id]
        rows.append(
            CoverageRow(
                key=city_id,
                name=name,
                city=province,
                counts=city_counts,
                this_month=this_month.get((dealer_id, city_id), MonthFigures()),
                last_month=last_month.get((dealer_id, city_id), MonthFigures()),
            )
        )
    return rows


@dataclass
class EstateCoverage:
    """An estate's facts and coverage, as HQ may see them."""

    estate_id: int
    dealer_id: int
    city_id: int
    name: str
    district: str
    households: int | None
    targeted_on: date | None
    status: CoverageStatus
    neglected: bool
    operating: bool  # a live group worked recently (有盘有群有运营), converted or not
    groups: int
    orders: int
    last_active_on: date | None
    lat: float | None = None
    lng: float | None = None

    def days_targeted(self, today: date) -> int | None:
        return (today - self.targeted_on).days if self.targeted_on else None


def _estate_coverage(row) -> EstateCoverage:
    return EstateCoverage(
        estate_id=row.estate_id,
        dealer_id=row.dealer_id,
        city_id=row.city_id,
        name=row.name,
        district=row.district,
        households=row.households,
        targeted_on=row.targeted_on,
        status=CoverageStatus(row.status),
        neglected=bool(row.neglected),
        operating=bool(row.operating),
        groups=row.groups,
        orders=row.orders,
        last_active_on=row.last_active_on,
        lat=row.lat,
        lng=row.lng,
    )


def estates_coverage(
    session: Session, th: Thresholds, dealer_id: int | None = None, city_id: int | None = None, estate_id=None
) -> list[EstateCoverage]:
    """Estates with their coverage, by dealer/city, ordered by status then name."""
    status = estate_status_query(th)
    query = sa.select(status)
    if dealer_id is not None:
        query = query.where(status.c.dealer_id == dealer_id)
    if city_id is not None:
        query = query.where(status.c.city_id == city_id)
    if estate_id is not None:
        query = query.where(status.c.estate_id == estate_id)
    order = list(CoverageStatus)
    rows = [_estate_coverage(row) for row in session.execute(query)]
    return sorted(rows, key=lambda e: (order.index(e.status), e.name))


def estate_coverage(session: Session, th: Thresholds, estate_id: int) -> EstateCoverage | None:
    rows = estates_coverage(session, th, estate_id=estate_id)
    return rows[0] if rows else None


# --- the national map ----------------------------------------------------------------------------


@dataclass
class CityCoverage:
    city_id: int
    name: str
    province: str
    lat: float | None
    lng: float | None
    dealers: int
    by_status: dict[CoverageStatus, int]

    @property
    def estates(self) -> int:
        return sum(self.by_status.values())


def city_coverage(session: Session, th: Thresholds, dealer_id: int | None = None) -> list[CityCoverage]:
    """Every city with estates: counts per status, dealers present, a position (the city's centre,
    else the mean of its positioned estates)."""
    status = estate_status_query(th)
    where = [status.c.dealer_id == dealer_id] if dealer_id is not None else []
    counts = session.execute(
        sa.select(status.c.city_id, status.c.status, sa.func.count())
        .where(*where)
        .group_by(status.c.city_id, status.c.status)
    ).all()
    # Dealers present and the mean position need no status: read from the estates alone.
    per_city = (
        sa.select(
            Estate.city_id,
            sa.func.count(sa.distinct(Estate.dealer_id)).label("dealers"),
            sa.func.avg(Estate.lat).label("lat"),
            sa.func.avg(Estate.lng).label("lng"),
        )
        .where(*([Estate.dealer_id == dealer_id] if dealer_id is not None else []))
        .group_by(Estate.city_id)
        .subquery("per_city")
    )
    cities = session.execute(
        sa.select(
            City.id,
            City.name,
            City.province,
            City.center_lat,
            City.center_lng,
            per_city.c.dealers,
            per_city.c.lat,
            per_city.c.lng,
        )
        .join(per_city, per_city.c.city_id == City.id)
        .order_by(City.province, City.name)
    ).all()
    by_city: dict[int, dict[CoverageStatus, int]] = defaultdict(lambda: dict.fromkeys(CoverageStatus, 0))
    for city_id, value, count in counts:
        by_city[city_id][CoverageStatus(value)] = count
    return [
        CityCoverage(
            city_id=city_id,
            name=name,
            province=province,
            lat=center_lat if center_lat is not None else (float(lat) if lat is not None else None),
            lng=center_lng if center_lng is not None else (float(lng) if lng is not None else None),
            dealers=dealers,
            by_status=by_city[city_id],
        )
        for city_id, name, province, center_lat, center_lng, dealers, lat, lng in cities
    ]


def status_totals(session: Session, th: Thresholds) -> dict[CoverageStatus, int]:
    """How many estates nationwide are in each coverage status (one query, whatever the network's size).
    A page that has the dealer table already has them: `network_totals(rows).counts.by_status`."""
    status = estate_status_query(th)
    totals = dict.fromkeys(CoverageStatus, 0)
    for value, count in session.execute(sa.select(status.c.status, sa.func.count()).group_by(status.c.status)):
        totals[CoverageStatus(value)] = count
    return totals


@dataclass
class EstatePoint:
    estate_id: int
    name: str
    lat: float
    lng: float
    status: CoverageStatus
    dealer_id: int
    households: int | None


def city_estate_points(
    session: Session, th: Thresholds, city_id: int, dealer_id: int | None = None
) -> list[EstatePoint]:
    """The positioned estates of one city with their status and dealer (for the map's estate layer)."""
    status = estate_status_query(th)
    query = sa.select(
        status.c.estate_id,
        status.c.name,
        status.c.lat,
        status.c.lng,
        status.c.status,
        status.c.dealer_id,
        status.c.households,
    ).where(status.c.city_id == city_id, status.c.lat.is_not(None), status.c.lng.is_not(None))
    if dealer_id is not None:
        query = query.where(status.c.dealer_id == dealer_id)
    return [
        EstatePoint(estate_id, name, lat, lng, CoverageStatus(value), owner, households)
        for estate_id, name, lat, lng, value, owner, households in session.execute(query)
    ]


# --- the lists HQ decides on ---------------------------------------------------------------------


@dataclass
class Candidate:
    """An estate on one of the month's lists, with HQ's latest decision on it for that month."""

    estate: EstateCoverage
    dealer_name: str
    dealer_code: str
    city_name: str
    days_overdue: int | None
    decision: CoverageDecision | None


def _given_to_another() -> sa.ColumnElement[bool]:
    """The estate is one HQ's standing ruling (no later one for the same name in the city) gave to another
    dealer: theirs to work, not this dealer's to neglect.
    Rulings are few: their estates are collected once and each estate is checked against that set (a hashed
    NOT IN), rather than probing the rulings once per estate (+50 ms over 60,000 estates on PostgreSQL)."""
    later = aliased(TerritoryAssignment)
    superseded = sa.exists().where(
        later.city_id == TerritoryAssignment.city_id,
        later.name_key == TerritoryAssignment.name_key,
        later.id > TerritoryAssignment.id,
    )
    claimant = aliased(Estate)
    given_away = (
        sa.select(claimant.id)
        .join(
            TerritoryAssignment,
            sa.and_(
                TerritoryAssignment.city_id == claimant.city_id,
                TerritoryAssignment.name_key == claimant.name_key,
                TerritoryAssignment.dealer_id != claimant.dealer_id,
            ),
        )
        .where(~superseded)
    )
    return Estate.id.in_(given_away)


def _neglected_query(th: Thresholds) -> sa.Subquery:
    """The estates on the 有盘不做 list, with the columns of `estate_status_query` (whose values are known
    for them: 目标未建群, no group, no order, never active)."""
    live_group = sa.exists().where(Group.estate_id == Estate.id, Group.status != GroupStatus.DISSOLVED)
    ordered = sa.exists().where(Order.estate_id == Estate.id, Order.status != OrderStatus.CANCELLED)
    return (
        sa.select(
            *_estate_facts(),
            sa.literal(CoverageStatus.TARGET_NO_GROUP.value).label("status"),
            sa.literal(1).label("neglected"),
            sa.literal(0).label("has_group"),
            sa.literal(0).label("operating"),
            sa.literal(0).label("converted"),
            sa.literal(1).label("targeted"),
            sa.literal(0).label("groups"),
            sa.literal(0).label("orders"),
            sa.null().cast(sa.Date).label("last_active_on"),
        )
        .where(_targeted_long_ago(th), ~live_group, ~ordered)
        .subquery("estate_status")
    )


def candidates(
    session: Session,
    th: Thresholds,
    list_kind: DecisionList,
    month: date,
    dealer_id: int | None = None,
    undecided_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Candidate], int]:
    """One page of a month's list (有盘不做 by days overdue, 有盘有群有运营 by last activity) and its size."""
    if list_kind is DecisionList.NEGLECTED:
        status = _neglected_query(th)
        where = []
        order = [status.c.targeted_on, status.c.name]
    else:
        status = estate_status_query(th)
        where = [status.c.operating == 1]
        order = [status.c.last_active_on.desc(), status.c.name]
    rows_from = status
    if dealer_id is not None:
        where.append(status.c.dealer_id == dealer_id)
    decided = sa.exists().where(
        CoverageDecision.estate_id == status.c.estate_id,
        CoverageDecision.month == month,
        CoverageDecision.list_kind == list_kind,
    )
    if undecided_only:
        where.append(~decided)
    total = session.scalar(sa.select(sa.func.count()).select_from(rows_from).where(*where))
    rows = session.execute(
        sa.select(
            status, Dealer.name.label("dealer_name"), Dealer.code.label("dealer_code"), City.name.label("city_name")
        )
        .select_from(rows_from)
        .join(Dealer, Dealer.id == status.c.dealer_id)
        .join(City, City.id == status.c.city_id)
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    ).all()
    estates = [_estate_coverage(row) for row in rows]
    decisions = latest_decisions(session, [e.estate_id for e in estates], month, list_kind)
    page = []
    for row, estate in zip(rows, estates, strict=True):
        dealer_name, dealer_code, city_name = row[-3:]
        overdue = None
        if list_kind is DecisionList.NEGLECTED and estate.targeted_on:
            overdue = (th.today - estate.targeted_on).days - th.neglect_days
        page.append(Candidate(estate, dealer_name, dealer_code, city_name, overdue, decisions.get(estate.estate_id)))
    return page, total


def latest_decisions(
    session: Session, estate_ids: list[int], month: date, list_kind: DecisionList
) -> dict[int, CoverageDecision]:
    if not estate_ids:
        return {}
    rows = session.scalars(
        sa.select(CoverageDecision)
        .where(
            CoverageDecision.estate_id.in_(estate_ids),
            CoverageDecision.month == month,
            CoverageDecision.list_kind == list_kind,
        )
        .order_by(CoverageDecision.id)
    )
    return {decision.estate_id: decision for decision in rows}  # later rows win


def decision_history(session: Session, estate_id: int) -> list[CoverageDecision]:
    return list(
        session.scalars(
            sa.select(CoverageDecision)
            .where(CoverageDecision.estate_id == estate_id)
            .order_by(CoverageDecision.decided_at.desc(), CoverageDecision.id.desc())
        )
    )


# --- territory conflicts -------------------------------------------------------------------------


@dataclass
class Claim:
    estate_id: int
    dealer_id: int
    dealer_name: str
    name: str
    lat: float | None
    lng: float | None


@dataclass
class Conflict:
    """One estate (same city, same name, positions within the radius) claimed by several dealers."""

    city_id: int
    city_name: str
    name_key: str
    claims: list[Claim]
    distance_m: float | None  # the largest distance between two positioned claims
    assignment: TerritoryAssignment | None

    @property
    def name(self) -> str:
        return self.claims[0].name


def conflicts(session: Session, th: Thresholds) -> list[Conflict]:
    """Estates claimed by more than one dealer: same city and normalised name, and positions (where
    both are known) within the radius. Unresolved ones first."""
    claimed_twice = (
        sa.select(Estate.city_id, Estate.name_key)
        .group_by(Estate.city_id, Estate.name_key)
        .having(sa.func.count(sa.distinct(Estate.dealer_id)) > 1)
        .subquery("claimed_twice")
    )
    rows = session.execute(
        sa.select(
            Estate.id,
            Estate.dealer_id,
            Dealer.name,
            Estate.name,
            Estate.lat,
            Estate.lng,
            Estate.city_id,
            Estate.name_key,
            City.name,
        )
        .join(
            claimed_twice,
            sa.and_(claimed_twice.c.city_id == Estate.city_id, claimed_twice.c.name_key == Estate.name_key),
        )
        .join(Dealer, Dealer.id == Estate.dealer_id)
        .join(City, City.id == Estate.city_id)
        .order_by(Estate.city_id, Estate.name_key, Dealer.name)
    ).all()
    grouped: dict[tuple[int, str], list] = defaultdict(list)
    city_names = {}
    for estate_id, dealer_id, dealer_name, name, lat, lng, city_id, name_key, city_name in rows:
        grouped[(city_id, name_key)].append(Claim(estate_id, dealer_id, dealer_name, name, lat, lng))
        city_names[city_id] = city_name
    assignments = _latest_assignments(session, list(grouped))
    result = []
    for (city_id, name_key), claims in grouped.items():
        positioned = [c for c in claims if c.lat is not None and c.lng is not None]
        distances = [
            distance_m(a.lng, a.lat, b.lng, b.lat) for i, a in enumerate(positioned) for b in positioned[i + 1 :]
        ]
        widest = max(distances) if distances else None
        if widest is not None and widest > th.conflict_radius_m:
            continue  # two estates that share a name, far apart: not one estate
        result.append(
            Conflict(city_id, city_names[city_id], name_key, claims, widest, assignments.get((city_id, name_key)))
        )
    return sorted(result, key=lambda c: (c.assignment is not None, c.city_name, c.name_key))


def _latest_assignments(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], TerritoryAssignment]:
    if not keys:
        return {}
    cities = {city_id for city_id, _ in keys}
    rows = session.scalars(
        sa.select(TerritoryAssignment)
        .where(TerritoryAssignment.city_id.in_(cities), TerritoryAssignment.name_key.in_({key for _, key in keys}))
        .order_by(TerritoryAssignment.id)
    )
    return {(row.city_id, row.name_key): row for row in rows}


# --- leaderboards and the base-deals comparison --------------------------------------------------


@dataclass
class Ranked:
    rank: int
    dealer_id: int
    dealer_name: str
    dealer_code: str
    value: int
    amount: Decimal = Decimal("0")


def leaderboards(session: Session, month: date, top: int = 20) -> dict[str, list[Ranked]]:
    """拉新榜 (new group members) and 成交榜 (orders signed, then amount) for the month, dealers with something only."""
    figures = _month_figures(session, month)
    dealers = {
        dealer_id: (name, code)
        for dealer_id, name, code in session.execute(sa.select(Dealer.id, Dealer.name, Dealer.code))
    }

    def ranked(value, amount=lambda f: Decimal("0")):
        entries = [(key[0], f) for key, f in figures.items() if value(f) > 0 and key[0] in dealers]
        entries.sort(key=lambda item: (-value(item[1]), -amount(item[1]), dealers[item[0]][1]))
        result, previous, rank = [], None, 0
        for position, (dealer_id, f) in enumerate(entries[:top], start=1):
            if (value(f), amount(f)) != previous:
                rank, previous = position, (value(f), amount(f))
            result.append(Ranked(rank, dealer_id, *dealers[dealer_id], value(f), amount(f)))
        return result

    return {
        "new_members": ranked(lambda f: f.new_members),
        "orders": ranked(lambda f: f.orders, lambda f: f.amount),
    }


@dataclass
class BaseDealLine:
    dealer_id: int
    dealer_name: str
    dealer_code: str
    groups: int
    expected: dict[str, Decimal]  # category → orders expected from the dealer's live groups
    actual: dict[str, int]  # category → orders (not cancelled) with an item of that category

    def ratio(self, category: str) -> float | None:
        expected = self.expected.get(category)
        return float(self.actual.get(category, 0) / expected) if expected else None


def base_deal_rates(session: Session) -> list[BaseDealRate]:
    return list(session.scalars(sa.select(BaseDealRate).order_by(BaseDealRate.category)))


def product_categories(session: Session) -> list[str]:
    """Every category any dealer's catalog uses (names only), for HQ to give a base rate."""
    return [c for c in session.scalars(sa.select(Product.category).where(Product.category != "").distinct()) if c]


def base_deal_comparison(session: Session, rates: list[BaseDealRate]) -> list[BaseDealLine]:
    """Each dealer's orders per category against what its live groups should bring by HQ's table."""
    groups = dict(
        session.execute(
            sa.select(Group.dealer_id, sa.func.count())
            .where(Group.status != GroupStatus.DISSOLVED)
            .group_by(Group.dealer_id)
        ).all()
    )
    actual: dict[int, dict[str, int]] = defaultdict(dict)
    for dealer_id, category, count in session.execute(
        sa.select(Order.dealer_id, Product.category, sa.func.count(sa.distinct(Order.id)))
        .join(OrderItem, OrderItem.order_id == Order.id)
        .join(Product, Product.id == OrderItem.product_id)
        .where(Order.status != OrderStatus.CANCELLED)
        .group_by(Order.dealer_id, Product.category)
    ):
        actual[dealer_id][category] = count
    lines = []
    for dealer_id, name, code in session.execute(sa.select(Dealer.id, Dealer.name, Dealer.code).order_by(Dealer.code)):
        live = groups.get(dealer_id, 0)
        lines.append(
            BaseDealLine(
                dealer_id,
                name,
                code,
                live,
                {rate.category: rate.orders_per_group * live for rate in rates},
                actual.get(dealer_id, {}),
            )
        )
    return lines
