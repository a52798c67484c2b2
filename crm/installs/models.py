"""Installation and the five-step inspection (安装社群监管五步流程), defects and rework, the owner's
signature, and the warranty that acceptance starts."""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime, Versioned, enum_type, utcnow
from crm.extensions import db

# The standard a dealer starts from (editable per dealer): what every step checks.
DEFAULT_CHECKLIST = ("门框垂直度", "门缝均匀", "五金安装", "漆面无损伤", "密封条", "现场清洁")


class Step(IntEnum):
    SELF_CHECK = 1  # 安装工按标准自检
    SPOT_CHECK = 2  # 顾问导购带队抽检
    GROUP_CHECK = 3  # 安装图片群共同检
    NEIGHBOUR_CHECK = 4  # 邻里互检
    OWNER_ACCEPTANCE = 5  # 业主全面验收

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self])


STEP_LABELS = {
    Step.SELF_CHECK: _l("安装工按标准自检"),
    Step.SPOT_CHECK: _l("顾问导购带队抽检"),
    Step.GROUP_CHECK: _l("安装图片群共同检"),
    Step.NEIGHBOUR_CHECK: _l("邻里互检"),
    Step.OWNER_ACCEPTANCE: _l("业主全面验收"),
}


class JobStatus(StrEnum):
    SCHEDULED = "scheduled"
    INSPECTING = "inspecting"
    REWORK = "rework"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return str(
            {
                JobStatus.SCHEDULED: _l("已排期"),
                JobStatus.INSPECTING: _l("验收中"),
                JobStatus.REWORK: _l("返工中"),
                JobStatus.ACCEPTED: _l("已验收"),
            }[self]
        )


job_installer = sa.Table(
    "installation_job_installer",
    db.metadata,
    sa.Column("job_id", sa.ForeignKey("installation_job.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class InspectionStandard(DealerOwned, TimestampMixin, db.Model):
    """A dealer's checklist for inspections (one per dealer)."""

    __table_args__ = (sa.UniqueConstraint("dealer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    items: Mapped[list] = mapped_column(sa.JSON, default=lambda: list(DEFAULT_CHECKLIST))


class InstallationJob(Versioned, DealerOwned, TimestampMixin, db.Model):
    __table_args__ = (sa.UniqueConstraint("order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    scheduled_on: Mapped[date | None]
    building: Mapped[str] = mapped_column(sa.String(20), default="")
    unit: Mapped[str] = mapped_column(sa.String(20), default="")
    room: Mapped[str] = mapped_column(sa.String(20), default="")
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, 12), default=JobStatus.SCHEDULED)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship()  # noqa: F821
    installers: Mapped[list[User]] = relationship(secondary=job_installer, order_by="User.username")  # noqa: F821
    attempts: Mapped[list[InspectionAttempt]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="InspectionAttempt.id"
    )
    defects: Mapped[list[Defect]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="Defect.id"
    )


class InspectionAttempt(DealerOwned, db.Model):
    """One pass or fail of one step, by whom, with the checklist, photos and (step 5) the owner's signature.

    A failed attempt sends the job to rework; the step is attempted again after the fix. All attempts stay.
    """

    __table_args__ = (sa.CheckConstraint("step BETWEEN 1 AND 5", name="step_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("installation_job.id", ondelete="CASCADE"), index=True)
    step: Mapped[int]
    passed: Mapped[bool]
    performer_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    performer_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="SET NULL"))
    performer_name: Mapped[str] = mapped_column(sa.String(64), default="")
    checklist: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"item", "passed", "note"}]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    signature_path: Mapped[str | None] = mapped_column(sa.String(255))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    job: Mapped[InstallationJob] = relationship(back_populates="attempts")
    photos: Mapped[list[InspectionPhoto]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="InspectionPhoto.id"
    )


class InspectionPhoto(DealerOwned, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("inspection_attempt.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(sa.String(255))
    caption: Mapped[str] = mapped_column(sa.String(100), default="")

    attempt: Mapped[InspectionAttempt] = relationship(back_populates="photos")


class Defect(DealerOwned, db.Model):
    """A defect found at a step: the installer fixes and photographs it, then inspection resumes there."""

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("installation_job.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_attempt.id", ondelete="SET NULL"))
    step: Mapped[int]
    description: Mapped[str] = mapped_column(sa.String(500))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fixed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    fix_note: Mapped[str] = mapped_column(sa.String(500), default="")
    fix_photo_path: Mapped[str | None] = mapped_column(sa.String(255))

    job: Mapped[InstallationJob] = relationship(back_populates="defects")

    @property
    def is_open(self) -> bool:
        return self.fixed_at is None


class WarrantyItem(DealerOwned, db.Model):
    """A risk promise of the offer, running from acceptance for its years."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(sa.String(200))
    years: Mapped[int]
    remedy: Mapped[str] = mapped_column(sa.String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    claims: Mapped[list[WarrantyClaim]] = relationship(
        back_populates="warranty_item", cascade="all, delete-orphan", order_by="WarrantyClaim.id"
    )


class WarrantyClaim(DealerOwned, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    warranty_item_id: Mapped[int] = mapped_column(sa.ForeignKey("warranty_item.id", ondelete="CASCADE"), index=True)
    reported_on: Mapped[date]
    description: Mapped[str] = mapped_column(sa.String(500))
    resolved_on: Mapped[date | None]
    resolution: Mapped[str] = mapped_column(sa.String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    warranty_item: Mapped[WarrantyItem] = relationship(back_populates="claims")
