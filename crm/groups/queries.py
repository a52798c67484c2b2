"""Reads for groups (社群): latest numbers, penetration, active share, the funnel, trends, the deal formula
and the progress board. Dealer scoping applies underneath every query here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, selectinload

from crm.core.i18n import lazy_gettext as _l
from crm.estates.models import City, Estate, EstateStage
from crm.groups.models import (
    HARD_LIMIT,
    QR_JOIN_LIMIT,
    FormulaPart,
    Group,
    GroupAccount,
    GroupFormulaCheck,
    GroupMetric,
    GroupStatus,
)
from crm.org.models import User
from crm.people.models import Person, group_member
from crm.plans.models import BattlePlan, PlanEstate, PlanPhase, PlanStatus
from crm.scripts.queries import RunProgress, group_progress

# Stages the board shows unless a stage is picked: the ones where there is group work to follow.
BOARD_DEFAULT_HIDDEN = (EstateStage.UNPLANNED, EstateStage.ABANDONED)
TREND_DAYS = 30
FUNNEL_DAYS = 30
KEY_MOVES_FOR_TRUST = 3


# ---------------------------------------------------------------- arithmetic


def penetration(owners: int, households: int | None) -> float | None:
    """Owners in groups as a share of the estate's households (None when households are unknown)."""
    if not households:
        return None
    return owners / households


def active_share(active_members: int, members: int) -> float | None:
    """Active members as a share of members (None for an empty group)."""
    if not members:
        return None
    return active_members / members


def size_flag(members: int) -> str | None:
    """'full' at 500 members, 'open_new' from 200 (QR-code joining stops there), else None."""
    if members >= HARD_LIMIT:
        return "full"
    if members >= QR_JOIN_LIMIT:
        return "open_new"
    return None


SIZE_FLAG_LABELS = {
    "open_new": _l("建议开新群（扫码进群上限 200）"),
    "full": _l("已满 500"),
}


def size_flag_label(members: int) -> str:
    """What to tell staff about a group's size ('' when nothing)."""
    flag = size_flag(members)
    return str(SIZE_FLAG_LABELS[flag]) if flag else ""


# ---------------------------------------------------------------- metrics


def latest_metrics(
    session: Session, group_ids, since: date | None = None, until: date | None = None
) -> dict[int, GroupMetric]:
    """Each group's most recent metrics row (optionally within [since, until]), in one query.

    The latest day is looked up per group (ix_group_metric_dealer_group_day read backwards, one entry), not
    as a MAX over every row of every group: a year of metrics for 150 groups is 55,000 index entries."""
    group_ids = list(group_ids)
    if not group_ids:
        return {}
    earlier = aliased(GroupMetric)
    # ORDER BY … LIMIT 1 rather than MAX(): the dealer filter scoping adds keeps PostgreSQL from reading MAX()
    # off the index, and would make it aggregate every row of the group.
    latest_day = sa.select(earlier.day).where(earlier.group_id == Group.id)
    if since is not None:
        latest_day = latest_day.where(earlier.day >= since)
    if until is not None:
        latest_day = latest_day.where(earlier.day <= until)
    rows = session.scalars(
        sa.select(GroupMetric)
        .join(Group, Group.id == GroupMetric.group_id)
        .where(
            Group.id.in_(group_ids),
            GroupMetric.day == latest_day.order_by(earlier.day.desc()).limit(1).scalar_subquery(),
        )
    )
    return {metric.group_id: metric for metric in rows}


FLOW_FIELDS = ("joins", "leaves", "messages", "store_visits", "deposits", "orders", "gmv")


def flow_totals(
    session: Session,
    group_ids,
    since: date | None = None,
    until: date | None = None,
    fields: tuple[str, ...] = FLOW_FIELDS,
) -> dict[int, dict[str, int]]:
    """Per group, the day-by-day counts (joins, store visits, deposits, orders, GMV…) summed, in one query."""
    group_ids = list(group_ids)
    if not group_ids:
        return {}
    query = sa.select(
        GroupMetric.group_id, *(sa.func.coalesce(sa.func.sum(getattr(GroupMetric, n)), 0) for n in fields)
    ).where(GroupMetric.group_id.in_(group_ids))
    if since is not None:
        query = query.where(GroupMetric.day >= since)
    if until is not None:
        query = query.where(GroupMetric.day <= until)
    rows = session.execute(query.group_by(GroupMetric.group_id)).all()
    return {row[0]: {name: int(value) for name, value in zip(fields, row[1:], strict=True)} for row in rows}


@dataclass
class EstatePenetration:
    owners: int
    households: int | None

    @property
    def share(self) -> float | None:
        return penetration(self.owners, self.households)


def estate_penetration(session: Session, estate: Estate) -> EstatePenetration:
    """Owners in the estate's live groups (latest numbers of each, summed) against its households."""
    group_ids = session.scalars(
        sa.select(Group.id).where(Group.estate_id == estate.id, Group.status != GroupStatus.DISSOLVED)
    ).all()
    owners = sum(metric.owners for metric in latest_metrics(session, group_ids).values())
    return EstatePenetration(owners, estate.households)


@dataclass
class FunnelStep:
    key: str
    label: str
    count: int
    rate: float | None  # share of the step before (None for the first step or a zero before it)


@dataclass
class Funnel:
    members: int
    store_visits: int
    deposits: int
    orders: int
    since: date
    until: date

    @property
    def steps(self) -> list[FunnelStep]:
        counts = [
            ("members", _l("群成员"), self.members),
            ("store_visits", _l("到店"), self.store_visits),
            ("deposits", _l("交定"), self.deposits),
            ("orders", _l("成交"), self.orders),
        ]
        steps, before = [], None
        for key, label, count in counts:
            rate = (count / before) if before else None
            steps.append(FunnelStep(key, str(label), count, rate))
            before = count
        return steps


def funnel(session: Session, group_ids, since: date, until: date) -> Funnel:
    """Members (latest in the window) → store visits → deposits → orders (summed over the window)."""
    group_ids = list(group_ids)
    members = sum(m.members for m in latest_metrics(session, group_ids, since, until).values())
    totals = flow_totals(session, group_ids, since, until).values()
    return Funnel(
        members=members,
        store_visits=sum(t["store_visits"] for t in totals),
        deposits=sum(t["deposits"] for t in totals),
        orders=sum(t["orders"] for t in totals),
        since=since,
        until=until,
    )


# ---------------------------------------------------------------- trends


SPARK_WIDTH = 120
SPARK_HEIGHT = 28


def sparkline_points(
    series: list[tuple[int, float]], days: int, top: float, width: int = SPARK_WIDTH, height: int = SPARK_HEIGHT
) -> str:
    """SVG polyline points for (day offset, value) pairs on a `days`-wide axis scaled to `top`."""
    if not series:
        return ""
    span = max(days - 1, 1)
    top = top or 1
    points = []
    for offset, value in series:
        x = round(width * offset / span, 1)
        y = round(height - 2 - (height - 4) * min(value / top, 1), 1)
        points.append(f"{x},{y}")
    return " ".join(points)


@dataclass
class Trend:
    since: date
    until: date
    metrics: list[GroupMetric]

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def members_points(self) -> str:
        series = [((m.day - self.since).days, m.members) for m in self.metrics]
        return sparkline_points(series, self.days, max((v for _, v in series), default=0))

    @property
    def active_share_points(self) -> str:
        series = [((m.day - self.since).days, active_share(m.active_members, m.members) or 0) for m in self.metrics]
        return sparkline_points(series, self.days, 1.0)


def trend(session: Session, group: Group, today: date, days: int = TREND_DAYS) -> Trend:
    """The group's daily rows over the last `days` days (today included), oldest first."""
    since = today - timedelta(days=days - 1)
    metrics = session.scalars(
        sa.select(GroupMetric)
        .where(GroupMetric.group_id == group.id, GroupMetric.day >= since, GroupMetric.day <= today)
        .order_by(GroupMetric.day)
    ).all()
    return Trend(since, today, list(metrics))


def recent_metrics(session: Session, group: Group, limit: int = 14) -> list[GroupMetric]:
    """The group's latest daily rows, newest first."""
    return list(
        session.scalars(
            sa.select(GroupMetric).where(GroupMetric.group_id == group.id).order_by(GroupMetric.day.desc()).limit(limit)
        )
    )


# ---------------------------------------------------------------- the deal formula


FORMULA_HINTS = {
    FormulaPart.NEED: _l("先摸清需求：在群里做风格和预算调研，把结果记进成员档案。"),
    FormulaPart.VALUE: _l("展示价值：把户型通用方案发到群里，让业主先看到设计。"),
    FormulaPart.TRUST: _l("建立信任：拿下一位关键人物，七步里至少做完三步。"),
    FormulaPart.BENEFIT: _l("给出利益：定好团购价和到店交定礼，让业主看到实惠。"),
    FormulaPart.RISK: _l("消除风险：给出具体的服务承诺，例如五年内免费维修。"),
    FormulaPart.THRESHOLD: _l("设置门槛：阶梯优惠，越早下单得到越多。"),
}


@dataclass
class FormulaPartStatus:
    part: FormulaPart
    is_satisfied: bool
    is_manual: bool
    evidence: str = ""
    check: GroupFormulaCheck | None = None
    checked_by: str = ""
    auto_source: str = ""  # where an automatic judgement comes from

    @property
    def hint(self) -> str:
        return str(FORMULA_HINTS[self.part])


@dataclass
class FormulaHealth:
    parts: list[FormulaPartStatus]

    @property
    def score(self) -> int:
        """Parts satisfied out of six, as a whole percentage."""
        return round(100 * sum(p.is_satisfied for p in self.parts) / len(self.parts))

    @property
    def weakest(self) -> FormulaPartStatus | None:
        """The first unsatisfied part in formula order: what to work on next."""
        return next((p for p in self.parts if not p.is_satisfied), None)


def formula_health(session: Session, group: Group) -> FormulaHealth:
    """The six parts of 成交公式 for a group: need and trust from its members' data, the rest ticked by hand."""
    from flask_babel import gettext as _

    members = session.scalars(
        sa.select(Person)
        .join(group_member, group_member.c.person_id == Person.id)
        .where(group_member.c.group_id == group.id)
        .options(selectinload(Person.key_moves))
    ).all()
    with_needs = [p for p in members if (p.needs_style or "").strip() or (p.needs_budget or "").strip()]
    key_people = sorted(
        ((p, len({move.move for move in p.key_moves})) for p in members if p.is_key_person),
        key=lambda pair: (-pair[1], pair[0].name),
    )
    won = [(p, n) for p, n in key_people if n >= KEY_MOVES_FOR_TRUST]
    checks = {check.part: check for check in group.formula_checks}
    checker_ids = {c.checked_by_id for c in checks.values() if c.checked_by_id}
    names = (
        {u.id: u.name for u in session.scalars(sa.select(User).where(User.id.in_(checker_ids)))} if checker_ids else {}
    )

    offer_evidence = _value_and_offer_evidence(session, group)
    parts = []
    for part in FormulaPart:
        if part is FormulaPart.NEED:
            parts.append(
                FormulaPartStatus(
                    part,
                    bool(with_needs),
                    False,
                    _("已记录需求（风格/预算）的成员：%(n)d / %(total)d", n=len(with_needs), total=len(members)),
                    auto_source=_("根据成员档案自动判断"),
                )
            )
        elif part is FormulaPart.TRUST:
            if key_people:
                best = "、".join(_("%(name)s（%(n)d/7）", name=p.name, n=n) for p, n in (won or key_people)[:3])
                evidence = _("关键人物七步进度：%(people)s", people=best)
            else:
                evidence = _("群里还没有标记为关键人物的成员")
            parts.append(FormulaPartStatus(part, bool(won), False, evidence, auto_source=_("根据成员档案自动判断")))
        elif part in offer_evidence:
            parts.append(
                FormulaPartStatus(part, True, False, offer_evidence[part], auto_source=_("根据方案与团购方案自动判断"))
            )
        else:
            check = checks.get(part)
            parts.append(
                FormulaPartStatus(
                    part,
                    bool(check and check.is_done),
                    True,
                    check.note if check else "",
                    check,
                    names.get(check.checked_by_id, "") if check else "",
                )
            )
    return FormulaHealth(parts)


def _value_and_offer_evidence(session: Session, group: Group) -> dict[FormulaPart, str]:
    """价值 from proposals shared for the estate; 利益, 风险, 门槛 from its group-buy offer — where they exist."""
    from flask_babel import gettext as _

    from crm.core.models import local_today
    from crm.offers.service import current_offer, discount_label
    from crm.proposals.models import Proposal

    evidence: dict[FormulaPart, str] = {}
    published = session.scalars(
        sa.select(Proposal)
        .where(Proposal.estate_id == group.estate_id, Proposal.share_token.is_not(None))
        .options(selectinload(Proposal.consents))
    ).all()
    shared = [p for p in published if p.is_shared]
    if shared:
        evidence[FormulaPart.VALUE] = _("已分享到群的方案：%(n)d 个", n=len(shared))
    offer = current_offer(session, group.estate_id, local_today())
    if offer is not None:
        if offer.tiers:
            steps = "，".join(
                _("满%(n)d户%(zhe)s", n=t.min_deposits, zhe=discount_label(t.discount_percent)) for t in offer.tiers
            )
            gift = _("，到店交定送%(gift)s", gift=offer.store_gift) if offer.store_gift else ""
            evidence[FormulaPart.BENEFIT] = _("团购：%(steps)s", steps=steps) + gift
        if offer.promises:
            evidence[FormulaPart.RISK] = "；".join(
                _("%(item)s %(years)d 年%(remedy)s", item=p.item, years=p.years, remedy=p.remedy)
                for p in offer.promises
            )
        if offer.early_birds:
            evidence[FormulaPart.THRESHOLD] = "；".join(b.benefit for b in offer.early_birds)
    return evidence


# ---------------------------------------------------------------- small helpers for other pages


@dataclass
class GroupLine:
    """A group with its latest numbers, as listed on an estate page or a board row."""

    group: Group
    latest: GroupMetric | None = None
    households: int | None = None
    deposits: int = 0
    script: RunProgress | None = None  # where the group stands on its playbook

    @property
    def members(self) -> int:
        return self.latest.members if self.latest else 0

    @property
    def owners(self) -> int:
        return self.latest.owners if self.latest else 0

    @property
    def penetration(self) -> float | None:
        return penetration(self.owners, self.households)

    @property
    def active_share(self) -> float | None:
        return active_share(self.latest.active_members, self.latest.members) if self.latest else None

    @property
    def size_flag(self) -> str | None:
        return size_flag(self.members)

    @property
    def size_flag_label(self) -> str:
        return size_flag_label(self.members)


def estate_groups(session: Session, estate: Estate) -> list[GroupLine]:
    """An estate's groups with their latest numbers (for the estate page)."""
    groups = session.scalars(sa.select(Group).where(Group.estate_id == estate.id).order_by(Group.name)).all()
    latest = latest_metrics(session, [g.id for g in groups])
    return [GroupLine(g, latest.get(g.id), estate.households) for g in groups]


@dataclass
class EstateGroupSummary:
    count: int
    names: list[str]


def estate_group_summary(session: Session, estate_id: int) -> EstateGroupSummary:
    """How many groups an estate has (not dissolved) and their names (for the map card)."""
    names = session.scalars(
        sa.select(Group.name)
        .where(Group.estate_id == estate_id, Group.status != GroupStatus.DISSOLVED)
        .order_by(Group.name)
    ).all()
    return EstateGroupSummary(len(names), list(names))


def owner_choices(session: Session, estate_id: int, current_owner_id: int | None = None) -> list[Person]:
    """People of the estate to pick a group owner from (plus the current owner if elsewhere)."""
    condition = Person.estate_id == estate_id
    if current_owner_id:
        condition = sa.or_(condition, Person.id == current_owner_id)
    return list(session.scalars(sa.select(Person).where(condition).order_by(Person.name)))


def dealer_users(session: Session, dealer_id: int) -> list[User]:
    """The dealer's active users, for the account and operator pickers."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.dealer_id == dealer_id, User.is_active_account.is_(True))
            .order_by(User.display_name, User.username)
        )
    )


def load_group(session: Session, group_id: int) -> Group | None:
    """A group with what its page shows loaded up front."""
    return session.scalars(
        sa.select(Group)
        .where(Group.id == group_id)
        .options(
            selectinload(Group.estate).selectinload(Estate.city),
            selectinload(Group.owner),
            selectinload(Group.accounts).selectinload(GroupAccount.user),
            selectinload(Group.members),
            selectinload(Group.formula_checks),
        )
    ).one_or_none()


# ---------------------------------------------------------------- the progress board


@dataclass
class BoardFilters:
    city_id: int | None = None
    operator_id: int | None = None
    stage: EstateStage | None = None

    @classmethod
    def from_args(cls, args) -> BoardFilters:
        """Read filters from a query string, ignoring values that do not parse."""

        def _int(name):
            try:
                return int(args.get(name, ""))
            except ValueError:
                return None

        try:
            stage = EstateStage(args.get("stage", ""))
        except ValueError:
            stage = None
        return cls(city_id=_int("city_id"), operator_id=_int("operator_id"), stage=stage)

    def as_args(self) -> dict:
        values = {
            "city_id": self.city_id,
            "operator_id": self.operator_id,
            "stage": self.stage.value if self.stage else None,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class CurrentPhase:
    name: str
    starts_on: date
    ends_on: date


@dataclass
class BoardEstate:
    estate: Estate
    groups: list[GroupLine] = field(default_factory=list)
    phase: CurrentPhase | None = None

    @property
    def live_groups(self) -> list[GroupLine]:
        return [line for line in self.groups if line.group.status != GroupStatus.DISSOLVED]

    @property
    def members(self) -> int:
        return sum(line.members for line in self.live_groups)

    @property
    def owners(self) -> int:
        return sum(line.owners for line in self.live_groups)

    @property
    def penetration(self) -> float | None:
        return penetration(self.owners, self.estate.households)

    @property
    def deposits(self) -> int:
        return sum(line.deposits for line in self.groups)


@dataclass
class BoardSection:
    stage: EstateStage
    estates: list[BoardEstate] = field(default_factory=list)
    without_groups: int = 0  # estates of this stage not listed because they have no group yet


def _has_group() -> sa.ScalarSelect:
    return sa.select(Group.estate_id).scalar_subquery()


def _board_filtered(query: sa.Select, filters: BoardFilters) -> sa.Select:
    """Narrow an estate query to the board's city and operator."""
    if filters.city_id:
        query = query.where(Estate.city_id == filters.city_id)
    if filters.operator_id:
        planned = (
            sa.select(PlanEstate.estate_id)
            .join(PlanEstate.plan)
            .where(PlanEstate.operator_id == filters.operator_id, BattlePlan.status != PlanStatus.DONE)
        )
        accounts = (
            sa.select(Group.estate_id)
            .join(GroupAccount, GroupAccount.group_id == Group.id)
            .where(GroupAccount.user_id == filters.operator_id)
        )
        query = query.where(sa.or_(Estate.id.in_(planned), Estate.id.in_(accounts)))
    return query


def board_estates_query(filters: BoardFilters) -> sa.Select:
    """Estates the board lists for these filters, with their city loaded.

    With a stage picked: every estate of that stage. Without: the estates that have a group — a dealer
    works hundreds of estates and the board is for following groups; the rest are counted per stage."""
    query = sa.select(Estate).options(selectinload(Estate.city))
    if filters.stage:
        query = query.where(Estate.stage == filters.stage)
    else:
        query = query.where(Estate.id.in_(_has_group()))
    return _board_filtered(query, filters)


def board_counts_without_groups(session: Session, filters: BoardFilters) -> dict[EstateStage, int]:
    """Without a stage picked: per worked stage, the estates left off the board because they have no group."""
    if filters.stage:
        return {}
    query = _board_filtered(
        sa.select(Estate.stage, sa.func.count(Estate.id)).where(
            Estate.stage.not_in(BOARD_DEFAULT_HIDDEN), Estate.id.not_in(_has_group())
        ),
        filters,
    ).group_by(Estate.stage)
    return {stage: count for stage, count in session.execute(query)}


def current_phases(session: Session, estate_ids, today: date) -> dict[int, CurrentPhase]:
    """Per estate, the phase of an active battle plan that covers `today`, in one query."""
    estate_ids = list(estate_ids)
    if not estate_ids:
        return {}
    rows = session.execute(
        sa.select(PlanEstate.estate_id, PlanPhase.name, PlanPhase.starts_on, PlanPhase.days)
        .join(PlanPhase.plan_estate)
        .join(PlanEstate.plan)
        .where(
            PlanEstate.estate_id.in_(estate_ids),
            BattlePlan.status == PlanStatus.ACTIVE,
            PlanPhase.starts_on <= today,
        )
        .order_by(PlanPhase.starts_on)
    ).all()
    found: dict[int, CurrentPhase] = {}
    for estate_id, name, starts_on, days in rows:
        ends_on = starts_on + timedelta(days=days - 1)
        if ends_on >= today:
            found[estate_id] = CurrentPhase(name, starts_on, ends_on)  # the latest-starting one wins
    return found


def board_estates(session: Session, estates: list[Estate], today: date) -> list[BoardEstate]:
    """Estates with their groups, latest numbers, deposits and current phase, in a fixed number of queries."""
    estate_ids = [e.id for e in estates]
    groups = (
        session.scalars(sa.select(Group).where(Group.estate_id.in_(estate_ids)).order_by(Group.name)).all()
        if estate_ids
        else []
    )
    group_ids = [g.id for g in groups]
    latest = latest_metrics(session, group_ids)
    totals = flow_totals(session, group_ids, fields=("deposits",))
    phases = current_phases(session, estate_ids, today)
    scripts = group_progress(session, group_ids, today, playbook_names=False)
    rows = {e.id: BoardEstate(e, phase=phases.get(e.id)) for e in estates}
    for group in groups:
        row = rows[group.estate_id]
        deposits = totals.get(group.id, {}).get("deposits", 0)
        line = GroupLine(group, latest.get(group.id), row.estate.households, deposits, scripts.get(group.id))
        row.groups.append(line)
    return list(rows.values())


def board(session: Session, filters: BoardFilters, today: date) -> list[BoardSection]:
    """The progress board: per pipeline stage (in pipeline order) its estates with their groups, and how many
    of the stage's estates have no group yet."""
    estates = session.scalars(board_estates_query(filters)).all()
    sections = {stage: BoardSection(stage) for stage in EstateStage}
    for row in board_estates(session, list(estates), today):
        sections[row.estate.stage].estates.append(row)
    for stage, count in board_counts_without_groups(session, filters).items():
        sections[stage].without_groups = count
    for section in sections.values():
        section.estates.sort(key=lambda row: row.estate.name_key)
    return [section for section in sections.values() if section.estates or section.without_groups]


def board_estate(session: Session, estate: Estate, today: date) -> BoardEstate:
    """One estate's board entry (after a quick metrics entry)."""
    return board_estates(session, [estate], today)[0]


def board_cities(session: Session) -> list[City]:
    """Cities of the visible estates (for the filter)."""
    city_ids = sa.select(Estate.city_id).distinct().scalar_subquery()
    return list(session.scalars(sa.select(City).where(City.id.in_(city_ids)).order_by(City.name)))
