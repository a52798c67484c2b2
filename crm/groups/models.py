"""Groups (社群) per estate, our accounts in them, their daily metrics and the deal-formula checklist."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime, Versioned, enum_type, utcnow
from crm.extensions import db
from crm.people.models import group_member

QR_JOIN_LIMIT = 200  # WeChat stops QR-code joining at 200 members
HARD_LIMIT = 500  # and no group holds more than 500


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return str(self._labels()[self])


class GroupKind(_Labelled):
    SELF_BUILT = "self_built"
    OWNERS = "owners"
    VIP = "vip"
    ALLIANCE = "alliance"
    FLASH = "flash"
    PAID = "paid"

    @staticmethod
    def _labels():
        return {
            GroupKind.SELF_BUILT: _l("自建群"),
            GroupKind.OWNERS: _l("业主群/他建群"),
            GroupKind.VIP: _l("老用户VIP群"),
            GroupKind.ALLIANCE: _l("联盟群"),
            GroupKind.FLASH: _l("快闪群"),
            GroupKind.PAID: _l("付费群"),
        }


class GroupOrigin(_Labelled):
    """How we built the group (five ways) or got into an owners' group (five ways)."""

    BY_PHONE = "by_phone"
    FROM_QQ = "from_qq"
    BY_WECHAT_ID = "by_wechat_id"
    OLD_CUSTOMERS = "old_customers"
    FROM_OTHER_GROUP = "from_other_group"
    STAFF_HUNT = "staff_hunt"
    KEY_PERSON = "key_person"
    ENTRY_POINT = "entry_point"
    OWNER_PAVES = "owner_paves"
    GROUP_BUY = "group_buy"

    @staticmethod
    def _labels():
        return {
            GroupOrigin.BY_PHONE: _l("自建：手机号添加业主"),
            GroupOrigin.FROM_QQ: _l("自建：QQ群导入"),
            GroupOrigin.BY_WECHAT_ID: _l("自建：微信号添加"),
            GroupOrigin.OLD_CUSTOMERS: _l("自建：老用户裂变"),
            GroupOrigin.FROM_OTHER_GROUP: _l("自建：从他人群拉人"),
            GroupOrigin.STAFF_HUNT: _l("进群：全员找盘找群"),
            GroupOrigin.KEY_PERSON: _l("进群：关键人拉入"),
            GroupOrigin.ENTRY_POINT: _l("进群：前端入口（活码/海报）"),
            GroupOrigin.OWNER_PAVES: _l("进群：群主铺垫"),
            GroupOrigin.GROUP_BUY: _l("进群：业主拼团"),
        }


class Platform(_Labelled):
    WECHAT = "wechat"
    WECOM = "wecom"
    QQ = "qq"

    @staticmethod
    def _labels():
        return {Platform.WECHAT: _l("微信"), Platform.WECOM: _l("企业微信"), Platform.QQ: _l("QQ")}


class GroupStatus(_Labelled):
    PREPARING = "preparing"
    OPERATING = "operating"
    SILENT = "silent"
    DISSOLVED = "dissolved"

    @staticmethod
    def _labels():
        return {
            GroupStatus.PREPARING: _l("筹建"),
            GroupStatus.OPERATING: _l("运营中"),
            GroupStatus.SILENT: _l("沉默"),
            GroupStatus.DISSOLVED: _l("解散"),
        }


class AccountRole(_Labelled):
    MAIN_IP = "main_ip"
    HELPER = "helper"
    SERVICE = "service"
    DESIGNER = "designer"

    @staticmethod
    def _labels():
        return {
            AccountRole.MAIN_IP: _l("主IP"),
            AccountRole.HELPER: _l("马甲"),
            AccountRole.SERVICE: _l("客服"),
            AccountRole.DESIGNER: _l("设计师"),
        }


class FormulaPart(_Labelled):
    """社群成交万能公式: need + value + trust + benefit + risk removal + threshold."""

    NEED = "need"
    VALUE = "value"
    TRUST = "trust"
    BENEFIT = "benefit"
    RISK = "risk"
    THRESHOLD = "threshold"

    @staticmethod
    def _labels():
        return {
            FormulaPart.NEED: _l("需求"),
            FormulaPart.VALUE: _l("价值"),
            FormulaPart.TRUST: _l("信任"),
            FormulaPart.BENEFIT: _l("利益"),
            FormulaPart.RISK: _l("风险"),
            FormulaPart.THRESHOLD: _l("门槛"),
        }


class Group(Versioned, DealerOwned, TimestampMixin, db.Model):
    """社群: one WeChat/WeCom/QQ group of an estate's owners."""

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[GroupKind] = mapped_column(enum_type(GroupKind, 20), default=GroupKind.SELF_BUILT)
    origin: Mapped[GroupOrigin | None] = mapped_column(enum_type(GroupOrigin, 20))
    platform: Mapped[Platform] = mapped_column(enum_type(Platform, 10), default=Platform.WECHAT)
    owner_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    started_on: Mapped[date | None]
    status: Mapped[GroupStatus] = mapped_column(enum_type(GroupStatus, 12), default=GroupStatus.PREPARING)

    estate: Mapped[Estate] = relationship()  # noqa: F821
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_person_id])  # noqa: F821
    members: Mapped[list[Person]] = relationship(secondary=group_member, back_populates="groups")  # noqa: F821
    accounts: Mapped[list[GroupAccount]] = relationship(back_populates="group", cascade="all, delete-orphan")
    metrics: Mapped[list[GroupMetric]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMetric.day"
    )
    formula_checks: Mapped[list[GroupFormulaCheck]] = relationship(back_populates="group", cascade="all, delete-orphan")


class GroupAccount(DealerOwned, db.Model):
    """One of our accounts in a group and the part it plays there."""

    __table_args__ = (sa.UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[AccountRole] = mapped_column(enum_type(AccountRole, 12))

    group: Mapped[Group] = relationship(back_populates="accounts")
    user: Mapped[User] = relationship()  # noqa: F821


METRIC_FIELDS = (
    "members",
    "owners",
    "joins",
    "leaves",
    "messages",
    "active_members",
    "store_visits",
    "deposits",
    "orders",
    "gmv",
)


class GroupMetric(DealerOwned, db.Model):
    """A group's numbers for one day (entered once; entering the day again updates it)."""

    __table_args__ = (
        sa.UniqueConstraint("group_id", "day"),
        # HQ's coverage reads a window of days for every group at once: which groups reported (group_id)
        # and how many people joined per dealer (dealer_id, joins), from this index alone.
        sa.Index("ix_group_metric_day_cover", "day", "group_id", "dealer_id", "joins"),
        # Dealer pages read one dealer's groups (scoping adds dealer_id = … to every query): the latest day
        # of each group read backwards off this index, and deposits summed from it alone.
        sa.Index("ix_group_metric_dealer_group_day", "dealer_id", "group_id", "day", "deposits"),
        *(sa.CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative") for name in METRIC_FIELDS),
        sa.CheckConstraint("active_members <= members", name="active_within_members"),
        sa.CheckConstraint("owners <= members", name="owners_within_members"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"))  # (group_id, day) is unique
    day: Mapped[date]
    members: Mapped[int] = mapped_column(default=0)
    owners: Mapped[int] = mapped_column(default=0)
    joins: Mapped[int] = mapped_column(default=0)
    leaves: Mapped[int] = mapped_column(default=0)
    messages: Mapped[int] = mapped_column(default=0)
    active_members: Mapped[int] = mapped_column(default=0)
    store_visits: Mapped[int] = mapped_column(default=0)
    deposits: Mapped[int] = mapped_column(default=0)
    orders: Mapped[int] = mapped_column(default=0)
    gmv: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship(back_populates="metrics")


class GroupFormulaCheck(DealerOwned, db.Model):
    """A hand-ticked part of the deal formula, for the parts the data cannot show."""

    __table_args__ = (sa.UniqueConstraint("group_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    part: Mapped[FormulaPart] = mapped_column(enum_type(FormulaPart, 12))
    is_done: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.String(255), default="")
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship(back_populates="formula_checks")
