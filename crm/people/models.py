"""People the dealer meets in its estates' groups: owners, key people, seed users — personal data (PIPL)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime, Versioned, utcnow
from crm.extensions import db


def _enum(enum_cls, length: int) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class LadderStage(StrEnum):
    """社交型零售的关系进化: how far a person has come, in order."""

    STRANGER = "stranger"
    BYSTANDER = "bystander"
    PARTICIPANT = "participant"
    INTENT = "intent"
    NEAR_BUYER = "near_buyer"
    BUYER = "buyer"
    LOYAL_FAN = "loyal_fan"
    SPREADER = "spreader"
    REFERRER = "referrer"

    @property
    def label(self) -> str:
        return str(LADDER_LABELS[self])

    @property
    def rank(self) -> int:
        return list(LadderStage).index(self)


LADDER_LABELS = {
    LadderStage.STRANGER: _l("陌生人"),
    LadderStage.BYSTANDER: _l("旁观者"),
    LadderStage.PARTICIPANT: _l("参与者"),
    LadderStage.INTENT: _l("意向用户"),
    LadderStage.NEAR_BUYER: _l("准购买者"),
    LadderStage.BUYER: _l("购买者"),
    LadderStage.LOYAL_FAN: _l("忠实粉丝"),
    LadderStage.SPREADER: _l("品牌传播者"),
    LadderStage.REFERRER: _l("推荐者"),
}

PERSON_TAGS = ("群主", "老用户", "粉丝", "宝妈", "KOL", "KOC", "种子用户", "设计师", "竞品")


class KeyMove(StrEnum):
    """The seven moves that win a key person (关键人物), in the playbook's order."""

    INVITE = "invite"
    PROFESSIONALISM = "professionalism"
    POLICY = "policy"
    RESULTS_FIRST = "results_first"
    BENEFIT = "benefit"
    CONTRACT = "contract"
    INTERNAL_GROUP = "internal_group"

    @property
    def label(self) -> str:
        return str(KEY_MOVE_LABELS[self])


KEY_MOVE_LABELS = {
    KeyMove.INVITE: _l("诚恳邀约"),
    KeyMove.PROFESSIONALISM: _l("显示专业"),
    KeyMove.POLICY: _l("政策讲解"),
    KeyMove.RESULTS_FIRST: _l("结果前置"),
    KeyMove.BENEFIT: _l("给予利益"),
    KeyMove.CONTRACT: _l("签订合同"),
    KeyMove.INTERNAL_GROUP: _l("内部建群"),
}


class InteractionKind(StrEnum):
    CALL = "call"
    VISIT = "visit"
    WECHAT = "wechat"
    STORE_VISIT = "store_visit"
    DEPOSIT = "deposit"
    ORDER = "order"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(
            {
                InteractionKind.CALL: _l("电话"),
                InteractionKind.VISIT: _l("上门"),
                InteractionKind.WECHAT: _l("微信沟通"),
                InteractionKind.STORE_VISIT: _l("到店"),
                InteractionKind.DEPOSIT: _l("交定"),
                InteractionKind.ORDER: _l("成交"),
                InteractionKind.OTHER: _l("其他"),
            }[self]
        )


group_member = sa.Table(
    "group_member",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
)


class Person(Versioned, DealerOwned, TimestampMixin, db.Model):
    """业主 or anyone met through the groups. Phone and WeChat ID identify a person within the dealer."""

    __table_args__ = (sa.Index("ix_person_dealer_phone", "dealer_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))  # real name or WeChat nickname
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    wechat_id: Mapped[str] = mapped_column(sa.String(64), default="")
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estate.id", ondelete="SET NULL"), index=True)
    building: Mapped[str] = mapped_column(sa.String(20), default="")
    unit: Mapped[str] = mapped_column(sa.String(20), default="")
    room: Mapped[str] = mapped_column(sa.String(20), default="")
    floor_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("floor_plan.id", ondelete="SET NULL"))
    needs_style: Mapped[str] = mapped_column(sa.String(50), default="")
    needs_budget: Mapped[str] = mapped_column(sa.String(50), default="")
    decoration_start: Mapped[date | None]
    source: Mapped[str] = mapped_column(sa.String(50), default="")
    operator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"), index=True)
    ladder_stage: Mapped[LadderStage] = mapped_column(_enum(LadderStage, 20), default=LadderStage.STRANGER)
    is_key_person: Mapped[bool] = mapped_column(default=False)

    estate: Mapped[Estate | None] = relationship()  # noqa: F821
    floor_plan: Mapped[FloorPlan | None] = relationship()  # noqa: F821
    operator: Mapped[User | None] = relationship()  # noqa: F821
    referred_by: Mapped[Person | None] = relationship(remote_side="Person.id", back_populates="referrals")
    referrals: Mapped[list[Person]] = relationship(back_populates="referred_by")
    groups: Mapped[list[Group]] = relationship(  # noqa: F821
        secondary=group_member, back_populates="members", order_by="Group.name"
    )
    stage_changes: Mapped[list[PersonStageChange]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonStageChange.changed_at.desc()"
    )
    key_moves: Mapped[list[KeyPersonMove]] = relationship(back_populates="person", cascade="all, delete-orphan")
    interactions: Mapped[list[Interaction]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Interaction.happened_at.desc()"
    )


class PersonStageChange(DealerOwned, db.Model):
    """One step on the ladder: who moved the person, when and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[LadderStage | None] = mapped_column(_enum(LadderStage, 20))
    to_stage: Mapped[LadderStage] = mapped_column(_enum(LadderStage, 20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(255), default="")

    person: Mapped[Person] = relationship(back_populates="stage_changes")
    changed_by: Mapped[User | None] = relationship()  # noqa: F821


class KeyPersonMove(DealerOwned, db.Model):
    """One of the seven moves done for a key person."""

    __table_args__ = (sa.UniqueConstraint("person_id", "move"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    move: Mapped[KeyMove] = mapped_column(_enum(KeyMove, 20))
    done_on: Mapped[date]
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.String(255), default="")

    person: Mapped[Person] = relationship(back_populates="key_moves")
    done_by: Mapped[User | None] = relationship()  # noqa: F821


class Interaction(DealerOwned, db.Model):
    """A call, visit, chat, store visit, deposit… with a person."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind, 20))
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    person: Mapped[Person] = relationship(back_populates="interactions")
    by: Mapped[User | None] = relationship()  # noqa: F821
