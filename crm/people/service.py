"""Writes for people: registration, the ladder, the seven moves, interactions. Functions flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.models import local_today, utcnow
from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.estates.models import Estate, FloorPlan
from crm.groups.models import Group
from crm.org.models import User
from crm.people.masking import is_valid_mobile, normalize_phone
from crm.people.models import (
    PERSON_TAGS,
    Interaction,
    InteractionKind,
    KeyMove,
    KeyPersonMove,
    LadderStage,
    Person,
    PersonStageChange,
)

# Who may be assigned a person: the staff who actually talk to owners in the groups.
ASSIGNABLE_ROLES = (Role.OPERATOR, Role.DEALER_LEAD)


@dataclass
class PersonFields:
    """What staff may set on a person (the ladder stage moves separately, with history)."""

    name: str
    phone: str = ""
    wechat_id: str = ""
    estate_id: int | None = None
    building: str = ""
    unit: str = ""
    room: str = ""
    floor_plan_id: int | None = None
    group_ids: list[int] = field(default_factory=list)
    needs_style: str = ""
    needs_budget: str = ""
    decoration_start: date | None = None
    source: str = ""
    operator_id: int | None = None
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    referred_by_id: int | None = None
    is_key_person: bool = False

    @classmethod
    def from_form_data(cls, data: dict) -> PersonFields:
        """Build from a validated PersonForm's `data`."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("name", "phone", "wechat_id", "building", "unit", "room", "needs_style", "needs_budget", "source"):
            values[key] = (values.get(key) or "").strip()
        values["notes"] = (values.get("notes") or "").strip()
        values["group_ids"] = list(values.get("group_ids") or [])
        values["tags"] = list(values.get("tags") or [])
        values["is_key_person"] = bool(values.get("is_key_person"))
        return cls(**values)

    @classmethod
    def from_person(cls, person: Person) -> PersonFields:
        """The person as their editor sees them."""
        values = {f.name: getattr(person, f.name) for f in fields(cls) if f.name != "group_ids"}
        values["tags"] = list(person.tags or [])
        return cls(**values, group_ids=[g.id for g in person.groups])


def create_person(session: Session, dealer_id: int, fields_: PersonFields) -> Person:
    """Register a person with the dealer (a stranger on the ladder until someone moves them)."""
    person = Person(dealer_id=dealer_id, ladder_stage=LadderStage.STRANGER)
    _apply(session, person, fields_)
    session.add(person)
    session.flush()
    return person


def update_person(session: Session, person: Person, fields_: PersonFields) -> Person:
    """Change what staff know about a person."""
    _apply(session, person, fields_)
    session.flush()
    return person


def _apply(session: Session, person: Person, f: PersonFields) -> None:
    dealer_id = person.dealer_id
    if not f.name:
        raise FieldError("name", _("请填写姓名或微信昵称"))
    phone = normalize_phone(f.phone) if f.phone else ""
    if f.phone and not is_valid_mobile(phone):
        raise FieldError("phone", _("手机号格式不正确，请填写 11 位手机号，例如 13800138000"))
    if phone and (other := _other_person(session, dealer_id, person, Person.phone == phone)):
        # Unnamed: naming the holder would let a masked role test numbers against people.
        raise FieldError("phone", _("该手机号已登记，请在列表中搜索该号码"))
    if f.wechat_id and (other := _other_person(session, dealer_id, person, Person.wechat_id == f.wechat_id)):
        raise FieldError("wechat_id", _("该微信号已登记：%(name)s", name=other.name))

    estate = _owned(session, Estate, f.estate_id, dealer_id) if f.estate_id else None
    if f.estate_id and estate is None:
        raise FieldError("estate_id", _("请选择本经销商的楼盘"))
    floor_plan = _owned(session, FloorPlan, f.floor_plan_id, dealer_id) if f.floor_plan_id else None
    if f.floor_plan_id and (floor_plan is None or estate is None or floor_plan.estate_id != estate.id):
        raise FieldError("floor_plan_id", _("户型须属于所选楼盘"))
    groups = []
    if f.group_ids:
        groups = list(session.scalars(sa.select(Group).where(Group.id.in_(f.group_ids), Group.dealer_id == dealer_id)))
        if len(groups) != len(set(f.group_ids)) or estate is None or any(g.estate_id != estate.id for g in groups):
            raise FieldError("group_ids", _("所在社群须是所选楼盘的社群"))
    if f.operator_id:
        operator = _owned(session, User, f.operator_id, dealer_id)
        if operator is None or operator.role not in ASSIGNABLE_ROLES:
            raise FieldError("operator_id", _("负责人须是本经销商的主IP或社群负责人"))
    unknown_tags = [t for t in f.tags if t not in PERSON_TAGS]
    if unknown_tags:
        raise FieldError("tags", _("未知标签：%(tags)s", tags="、".join(unknown_tags)))
    referrer = None
    if f.referred_by_id:
        referrer = _owned(session, Person, f.referred_by_id, dealer_id)
        if referrer is None:
            raise FieldError("referred_by_id", _("推荐人须是本经销商登记的人"))
        _refuse_referral_loop(person, referrer)

    person.name = f.name
    person.phone = phone
    person.wechat_id = f.wechat_id
    person.estate = estate
    person.building, person.unit, person.room = f.building, f.unit, f.room
    person.floor_plan = floor_plan
    person.groups = sorted(groups, key=lambda g: g.name)
    person.needs_style, person.needs_budget = f.needs_style, f.needs_budget
    person.decoration_start = f.decoration_start
    person.source = f.source
    person.operator_id = f.operator_id or None
    person.tags = [t for t in PERSON_TAGS if t in f.tags]  # the list's own order, no duplicates
    person.notes = f.notes
    person.referred_by = referrer
    person.is_key_person = f.is_key_person


def _owned(session: Session, model, object_id: int, dealer_id: int):
    """The dealer's row with this id, or None (services run outside a request's scope too)."""
    return session.scalar(sa.select(model).where(model.id == object_id, model.dealer_id == dealer_id))


def _other_person(session: Session, dealer_id: int, person: Person, condition) -> Person | None:
    query = sa.select(Person).where(Person.dealer_id == dealer_id, condition)
    if person.id is not None:
        query = query.where(Person.id != person.id)
    return session.scalars(query.order_by(Person.id).limit(1)).first()


def _refuse_referral_loop(person: Person, referrer: Person) -> None:
    """A referral chain runs up to a root; a person cannot be their own (indirect) referrer."""
    seen = set()
    node = referrer
    while node is not None and node.id not in seen:
        if node is person or (person.id is not None and node.id == person.id):
            if referrer is person:
                raise FieldError("referred_by_id", _("不能把自己设为推荐人"))
            raise FieldError(
                "referred_by_id",
                _(
                    "不能形成推荐循环：%(name)s 已经由 %(person)s 直接或间接推荐",
                    name=referrer.name,
                    person=person.name,
                ),
            )
        seen.add(node.id)
        node = node.referred_by


def move_stage(
    session: Session, person: Person, to_stage: LadderStage, *, by: User | None, reason: str = ""
) -> PersonStageChange:
    """Move a person to another rung of the ladder (up or down) and record who, when and why."""
    if to_stage == person.ladder_stage:
        raise FieldError("stage", _("已经是“%(stage)s”", stage=to_stage.label))
    change = PersonStageChange(
        dealer_id=person.dealer_id,
        person=person,
        from_stage=person.ladder_stage,
        to_stage=to_stage,
        changed_at=utcnow(),
        changed_by_id=by.id if by is not None else None,
        reason=(reason or "").strip()[:255],
    )
    person.ladder_stage = to_stage
    session.add(change)
    session.flush()
    session.refresh(person, ["stage_changes"])
    return change


def neighbour_stage(stage: LadderStage, step: int) -> LadderStage | None:
    """The rung `step` places above (positive) or below (negative) `stage`, or None past either end."""
    stages = list(LadderStage)
    index = stage.rank + step
    return stages[index] if 0 <= index < len(stages) else None


def tick_move(
    session: Session, person: Person, move: KeyMove, *, by: User | None, on: date | None = None, note: str = ""
) -> KeyPersonMove:
    """Mark one of the seven moves done for a key person (again: updates date, who and note)."""
    done = next((m for m in person.key_moves if m.move == move), None)
    if done is None:
        done = KeyPersonMove(dealer_id=person.dealer_id, person=person, move=move)
        session.add(done)
    done.done_on = on or local_today()
    done.done_by_id = by.id if by is not None else None
    done.note = (note or "").strip()[:255]
    session.flush()
    return done


def untick_move(session: Session, person: Person, move: KeyMove) -> None:
    """Mark one of the seven moves not done."""
    for done in list(person.key_moves):
        if done.move == move:
            person.key_moves.remove(done)
    session.flush()


def add_interaction(
    session: Session,
    person: Person,
    kind: InteractionKind,
    *,
    by: User | None,
    note: str = "",
    happened_at: datetime | None = None,
) -> Interaction:
    """Log a call, visit, chat, store visit, deposit or order with a person."""
    interaction = Interaction(
        dealer_id=person.dealer_id,
        person=person,
        kind=kind,
        by_id=by.id if by is not None else None,
        note=(note or "").strip(),
        happened_at=happened_at or utcnow(),
    )
    session.add(interaction)
    session.flush()
    session.refresh(person, ["interactions"])
    return interaction


def can_delete_interaction(user, interaction: Interaction) -> bool:
    """Staff delete only the entries they logged themselves."""
    return interaction.by_id is not None and interaction.by_id == getattr(user, "id", None)


def delete_interaction(session: Session, interaction: Interaction) -> Person:
    """Remove a logged interaction; returns its person."""
    person = interaction.person
    person.interactions.remove(interaction)
    session.flush()
    return person
