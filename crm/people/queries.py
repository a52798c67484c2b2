"""Reads for people: the filtered list, ladder funnels, key-person progress, the referral tree.

Dealer scoping applies underneath every query here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.core.i18n import lazy_gettext as _l
from crm.estates.models import Estate, FloorPlan
from crm.groups.models import Group
from crm.org.models import User
from crm.people.masking import normalize_phone
from crm.people.models import (
    PERSON_TAGS,
    Interaction,
    InteractionKind,
    KeyMove,
    LadderStage,
    Person,
    PersonStageChange,
    group_member,
)
from crm.people.service import ASSIGNABLE_ROLES

# One line per move: what to do next with a key person.
MOVE_HINTS = {
    KeyMove.INVITE: _l("真诚邀请到门店坐坐，当面认识"),
    KeyMove.PROFESSIONALISM: _l("展示社群运营脚本和方案，证明我们专业"),
    KeyMove.POLICY: _l("讲清本楼盘政策，并与竞品做对比"),
    KeyMove.RESULTS_FIRST: _l("先讲结果：群里已有多少人购买、目标是多少"),
    KeyMove.BENEFIT: _l("给出专属奖励，让对方有明确的好处"),
    KeyMove.CONTRACT: _l("把约定的结果写进合同并签订"),
    KeyMove.INTERNAL_GROUP: _l("拉进内部群，一起推进社群运营"),
}


@dataclass
class PersonFilters:
    estate_id: int | None = None
    group_id: int | None = None
    stage: LadderStage | None = None
    tag: str = ""
    operator_id: int | None = None
    key_only: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args) -> PersonFilters:
        """Read filters from a query string, ignoring values that do not parse."""

        def _int(name):
            try:
                return int(args.get(name, ""))
            except ValueError:
                return None

        try:
            stage = LadderStage(args.get("stage", ""))
        except ValueError:
            stage = None
        tag = args.get("tag", "")
        return cls(
            estate_id=_int("estate_id"),
            group_id=_int("group_id"),
            stage=stage,
            tag=tag if tag in PERSON_TAGS else "",
            operator_id=_int("operator_id"),
            key_only=args.get("key_only") in ("1", "on", "true"),
            q=args.get("q", "").strip()[:64],
        )

    def as_args(self) -> dict:
        """The filters as query-string arguments (for pagination links)."""
        values = {
            "estate_id": self.estate_id,
            "group_id": self.group_id,
            "stage": self.stage.value if self.stage else None,
            "tag": self.tag,
            "operator_id": self.operator_id,
            "key_only": "1" if self.key_only else None,
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def people_query(filters: PersonFilters, *, sees_full_phones: bool) -> sa.Select:
    """People matching the filters, with what the list shows loaded up front.

    A phone search matches any part of the number for staff who see every number; for the
    others only the whole number matches, so nobody can find digits out by probing.
    """
    query = sa.select(Person).options(
        selectinload(Person.estate), selectinload(Person.operator), selectinload(Person.groups)
    )
    if filters.estate_id:
        query = query.where(Person.estate_id == filters.estate_id)
    if filters.group_id:
        query = query.where(Person.id.in_(_members_of(filters.group_id)))
    if filters.stage:
        query = query.where(Person.ladder_stage == filters.stage)
    if filters.operator_id:
        query = query.where(Person.operator_id == filters.operator_id)
    if filters.key_only:
        query = query.where(Person.is_key_person.is_(True))
    if filters.tag:
        # Tags are a JSON list stored as json.dumps text; matching that quoted tag works on SQLite and PostgreSQL.
        query = query.where(sa.cast(Person.tags, sa.String).like(_like(json.dumps(filters.tag)), escape="\\"))
    if filters.q:
        text_match = sa.or_(
            Person.name.like(_like(filters.q), escape="\\"), Person.wechat_id.like(_like(filters.q), escape="\\")
        )
        digits = normalize_phone(filters.q) if re.fullmatch(r"[\d\s+\-()]+", filters.q) else ""
        if len(digits) == 11:
            text_match = sa.or_(text_match, Person.phone == digits)
        if sees_full_phones and len(digits) >= 4:
            text_match = sa.or_(text_match, Person.phone.like(_like(digits), escape="\\"))
        query = query.where(text_match)
    return query.order_by(Person.updated_at.desc(), Person.id.desc())


def _members_of(group_id: int) -> sa.Select:
    return sa.select(group_member.c.person_id).where(group_member.c.group_id == group_id)


def ladder_funnel(
    session: Session, *, estate_id: int | None = None, group_id: int | None = None
) -> dict[LadderStage, int]:
    """How many people stand on each rung (every rung present, zeros included), per estate and/or group."""
    query = sa.select(Person.ladder_stage, sa.func.count(Person.id)).group_by(Person.ladder_stage)
    if estate_id:
        query = query.where(Person.estate_id == estate_id)
    if group_id:
        query = query.where(Person.id.in_(_members_of(group_id)))
    counts = {stage: 0 for stage in LadderStage}
    counts.update({LadderStage(stage): n for stage, n in session.execute(query).all()})
    return counts


def at_or_above(funnel: dict[LadderStage, int]) -> dict[LadderStage, int]:
    """Cumulative funnel: how many people have reached each rung or gone beyond it."""
    result, running = {}, 0
    for stage in reversed(list(LadderStage)):
        running += funnel.get(stage, 0)
        result[stage] = running
    return {stage: result[stage] for stage in LadderStage}


def moves_done(person: Person) -> dict[KeyMove, object]:
    """The key person's done moves by move."""
    return {m.move: m for m in person.key_moves}


def next_move(person: Person) -> KeyMove | None:
    """The first of the seven moves not yet done, or None when all seven are."""
    done = moves_done(person)
    return next((move for move in KeyMove if move not in done), None)


def move_hint(move: KeyMove) -> str:
    """A one-line hint for a move."""
    return str(MOVE_HINTS[move])


def load_person(session: Session, person_id: int) -> Person | None:
    """One person with everything the detail page shows."""
    return session.scalar(
        sa.select(Person)
        .where(Person.id == person_id)
        .options(
            selectinload(Person.estate),
            selectinload(Person.floor_plan),
            selectinload(Person.operator),
            selectinload(Person.groups),
            selectinload(Person.referred_by),
            selectinload(Person.referrals),
            selectinload(Person.stage_changes).selectinload(PersonStageChange.changed_by),
            selectinload(Person.interactions).selectinload(Interaction.by),
            selectinload(Person.key_moves),
        )
    )


# --- choices for forms and filters -------------------------------------------------------------


def estates(session: Session) -> list[Estate]:
    """The dealer's estates, by name."""
    return list(session.scalars(sa.select(Estate).order_by(Estate.name)))


def groups(session: Session, estate_id: int | None = None) -> list[Group]:
    """The dealer's groups (optionally of one estate), by estate then name."""
    query = sa.select(Group).options(selectinload(Group.estate)).order_by(Group.estate_id, Group.name)
    if estate_id:
        query = query.where(Group.estate_id == estate_id)
    return list(session.scalars(query))


def floor_plans(session: Session) -> list[FloorPlan]:
    """The dealer's floor plans with their estates."""
    return list(
        session.scalars(
            sa.select(FloorPlan).options(selectinload(FloorPlan.estate)).order_by(FloorPlan.estate_id, FloorPlan.name)
        )
    )


def assignable_users(session: Session) -> list[User]:
    """Staff a person may be assigned to: the dealer's operators (主IP) and leads."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.role.in_(ASSIGNABLE_ROLES), User.dealer_id.is_not(None), User.is_active_account.is_(True))
            .order_by(User.display_name, User.username)
        )
    )


def people_for_referral(session: Session, exclude_id: int | None = None) -> list[Person]:
    """People who may be picked as a referrer."""
    query = sa.select(Person).order_by(Person.name, Person.id)
    if exclude_id:
        query = query.where(Person.id != exclude_id)
    return list(session.scalars(query))


# --- referrals (裂变) -----------------------------------------------------------------------------


@dataclass
class ReferralNode:
    person: Person
    children: list[ReferralNode] = field(default_factory=list)
    is_order: bool = False

    @property
    def direct(self) -> int:
        return len(self.children)

    @property
    def total(self) -> int:
        return sum(1 + child.total for child in self.children)

    @property
    def orders(self) -> int:
        """Orders among everyone this person brought in, directly or down the chain."""
        return sum(int(child.is_order) + child.orders for child in self.children)


def referral_forest(session: Session) -> list[ReferralNode]:
    """Who brought whom: one tree per person who referred someone without being referred themselves."""
    people = list(
        session.scalars(
            sa.select(Person)
            .where(sa.or_(Person.referred_by_id.is_not(None), Person.id.in_(sa.select(Person.referred_by_id))))
            .order_by(Person.name, Person.id)
        )
    )
    ordered_ids = set(
        session.scalars(sa.select(Interaction.person_id).where(Interaction.kind == InteractionKind.ORDER).distinct())
    )
    buyer_rank = LadderStage.BUYER.rank
    nodes = {
        p.id: ReferralNode(person=p, is_order=p.ladder_stage.rank >= buyer_rank or p.id in ordered_ids) for p in people
    }
    roots = []
    for person in people:
        parent = nodes.get(person.referred_by_id) if person.referred_by_id else None
        if parent is None:
            roots.append(nodes[person.id])
        else:
            parent.children.append(nodes[person.id])
    roots.sort(key=lambda n: (-n.total, n.person.name))
    return roots
