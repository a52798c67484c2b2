"""Cities, estates (楼盘) and their floor plans (户型)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, Versioned, enum_type, local_today
from crm.extensions import db
from crm.maps.models import HasPosition


class EstateStage(StrEnum):
    """Where the dealer's work on an estate stands, in pipeline order."""

    UNPLANNED = "unplanned"
    TARGET = "target"
    FINDING_GROUP = "finding_group"
    HAS_GROUP = "has_group"
    OPERATING = "operating"
    CONVERTING = "converting"
    INSTALLING = "installing"
    MAINTAINING = "maintaining"
    ABANDONED = "abandoned"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])

    @property
    def is_worked(self) -> bool:
        """The dealer has chosen to work this estate (HQ counts it as targeted)."""
        return self not in (EstateStage.UNPLANNED, EstateStage.ABANDONED)


STAGE_LABELS = {
    EstateStage.UNPLANNED: _l("未规划"),
    EstateStage.TARGET: _l("目标"),
    EstateStage.FINDING_GROUP: _l("找群中"),
    EstateStage.HAS_GROUP: _l("已建群"),
    EstateStage.OPERATING: _l("运营中"),
    EstateStage.CONVERTING: _l("转化中"),
    EstateStage.INSTALLING: _l("安装服务"),
    EstateStage.MAINTAINING: _l("老盘维护"),
    EstateStage.ABANDONED: _l("放弃"),
}


class EstateAge(StrEnum):
    NEW = "new"
    OLD = "old"

    @property
    def label(self) -> str:
        return str({EstateAge.NEW: _l("新盘"), EstateAge.OLD: _l("老盘")}[self])


class EstateFinish(StrEnum):
    ROUGH = "rough"
    FINISHED = "finished"

    @property
    def label(self) -> str:
        return str({EstateFinish.ROUGH: _l("毛坯"), EstateFinish.FINISHED: _l("精装")}[self])


_NAME_NOISE = re.compile(r"[\s·•・\-_—()（）\[\]【】「」“”\"'‘’,，.。]+")


def normalize_estate_name(name: str) -> str:
    """The key two spellings of one estate share: width-folded, case-folded, no spaces or punctuation."""
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name)).casefold()


class City(TimestampMixin, db.Model):
    """A city estates are in; shared by every dealer (reference data, not dealer data)."""

    __table_args__ = (sa.UniqueConstraint("province", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    province: Mapped[str] = mapped_column(sa.String(50), default="")
    center_lat: Mapped[float | None] = mapped_column(sa.Double)
    center_lng: Mapped[float | None] = mapped_column(sa.Double)

    def __repr__(self) -> str:
        return f"<City {self.name}>"


class Estate(Versioned, DealerOwned, HasPosition, TimestampMixin, db.Model):
    """楼盘: a housing estate whose owners the dealer reaches through their groups."""

    __table_args__ = (
        sa.UniqueConstraint("dealer_id", "city_id", "name_key"),
        sa.CheckConstraint("households IS NULL OR households >= 0", name="households_not_negative"),
        sa.Index("ix_estate_dealer_stage", "dealer_id", "stage"),
        sa.Index("ix_estate_city_name_key", "city_id", "name_key"),  # the same estate claimed by two dealers
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    name_key: Mapped[str] = mapped_column(sa.String(100))
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    district: Mapped[str] = mapped_column(sa.String(50), default="")
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    households: Mapped[int | None]
    delivery_date: Mapped[date | None]
    age: Mapped[EstateAge | None] = mapped_column(enum_type(EstateAge, 8))
    finish: Mapped[EstateFinish | None] = mapped_column(enum_type(EstateFinish, 10))
    avg_price: Mapped[int | None]  # 均价, yuan per m²
    developer: Mapped[str] = mapped_column(sa.String(100), default="")
    source: Mapped[str] = mapped_column(sa.String(100), default="")
    competitors: Mapped[str] = mapped_column(
        sa.String(255), default="", server_default=""
    )  # 竞品, names separated by 、or ,
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    stage: Mapped[EstateStage] = mapped_column(enum_type(EstateStage, 20), default=EstateStage.UNPLANNED)
    # The day the dealer chose to work the estate: HQ's 有盘不做 clock starts here.
    targeted_on: Mapped[date | None]

    city: Mapped[City] = relationship()
    dealer: Mapped[Dealer] = relationship()  # noqa: F821
    floor_plans: Mapped[list[FloorPlan]] = relationship(
        back_populates="estate", cascade="all, delete-orphan", order_by="FloorPlan.name"
    )

    @validates("stage")
    def _start_or_stop_the_target_clock(self, _key, stage):
        stage = EstateStage(stage)
        if not stage.is_worked:
            self.targeted_on = None
        elif self.targeted_on is None:
            self.targeted_on = local_today()
        return stage

    @property
    def competitor_names(self) -> list[str]:
        return [name for name in re.split(r"[,，、;；/\s]+", self.competitors or "") if name]

    def __repr__(self) -> str:
        return f"<Estate {self.name}>"


class FloorPlan(DealerOwned, TimestampMixin, db.Model):
    """户型: one floor plan of an estate; designers draw proposals per floor plan."""

    __table_args__ = (
        sa.UniqueConstraint("estate_id", "name"),
        sa.CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="area_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    area_m2: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
    rooms: Mapped[int | None]
    unit_count: Mapped[int | None]
    image_path: Mapped[str | None] = mapped_column(sa.String(255))

    estate: Mapped[Estate] = relationship(back_populates="floor_plans")
