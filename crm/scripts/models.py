"""Stage scripts (阶段脚本): playbooks and their published versions, and groups run on them.

A playbook's working draft is edited in place; publishing freezes it as a numbered version.
A group runs on one version: applying it lays out the run's days on the calendar and one task
per script item, so later edits to the playbook never touch a running group, and a task
marked done keeps the exact text that was sent.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, SharedByHQ, TimestampMixin, UTCDateTime, enum_type, utcnow
from crm.extensions import db
from crm.groups.models import AccountRole
from crm.scripts.content import ScriptKind, empty_content


class Playbook(SharedByHQ, TimestampMixin, db.Model):
    """剧本: a dealer's own (dealer set) or an HQ template every dealer may copy (no dealer)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    content: Mapped[dict] = mapped_column(sa.JSON, default=empty_content)  # the draft
    has_unpublished_changes: Mapped[bool] = mapped_column(default=True)
    copied_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("playbook.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    is_archived: Mapped[bool] = mapped_column(default=False)

    versions: Mapped[list[PlaybookVersion]] = relationship(
        back_populates="playbook", cascade="all, delete-orphan", order_by="PlaybookVersion.number"
    )
    copied_from: Mapped[Playbook | None] = relationship(remote_side=[id])

    @property
    def latest_version(self) -> PlaybookVersion | None:
        return self.versions[-1] if self.versions else None


class PlaybookVersion(SharedByHQ, db.Model):
    """A published, never-changing snapshot of a playbook's content."""

    __table_args__ = (sa.UniqueConstraint("playbook_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[int] = mapped_column(sa.ForeignKey("playbook.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    content: Mapped[dict] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    playbook: Mapped[Playbook] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()  # noqa: F821

    @property
    def label(self) -> str:
        return f"v{self.number}"


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return str(
            {RunStatus.RUNNING: _l("执行中"), RunStatus.PAUSED: _l("已暂停"), RunStatus.STOPPED: _l("已停止")}[self]
        )


class ScriptRun(DealerOwned, TimestampMixin, db.Model):
    """A group run on one playbook version from a start date, with the accounts playing each role."""

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("playbook_version.id", ondelete="RESTRICT"), index=True)
    starts_on: Mapped[date]
    status: Mapped[RunStatus] = mapped_column(enum_type(RunStatus, 10), default=RunStatus.RUNNING)
    paused_on: Mapped[date | None]
    # Values for the placeholders no data fills ({团购价}, {活动日期}…), asked when applying.
    values: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    group: Mapped[Group] = relationship()  # noqa: F821
    version: Mapped[PlaybookVersion] = relationship()
    roles: Mapped[list[ScriptRunRole]] = relationship(back_populates="run", cascade="all, delete-orphan")
    days: Mapped[list[ScriptRunDay]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ScriptRunDay.number"
    )
    events: Mapped[list[ScriptRunEvent]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ScriptRunEvent.id"
    )

    @property
    def is_live(self) -> bool:
        return self.status != RunStatus.STOPPED


class ScriptRunRole(DealerOwned, db.Model):
    """Which of our accounts plays a role (主IP, 马甲…) in a run."""

    __table_args__ = (sa.UniqueConstraint("run_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("script_run.id", ondelete="CASCADE"), index=True)
    role: Mapped[AccountRole] = mapped_column(enum_type(AccountRole, 12))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)

    run: Mapped[ScriptRun] = relationship(back_populates="roles")
    user: Mapped[User] = relationship()  # noqa: F821


class ScriptRunDay(DealerOwned, db.Model):
    """One scripted day of a run and the calendar date it falls on (moves when the run shifts)."""

    __table_args__ = (
        sa.UniqueConstraint("run_id", "number"),
        sa.CheckConstraint("day_in_phase >= 1 AND day_in_phase <= phase_days", name="day_within_phase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("script_run.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1 … the playbook's total days
    phase_position: Mapped[int]
    phase_name: Mapped[str] = mapped_column(sa.String(50))
    day_in_phase: Mapped[int]
    phase_days: Mapped[int]
    on_date: Mapped[date] = mapped_column(index=True)

    run: Mapped[ScriptRun] = relationship(back_populates="days")
    tasks: Mapped[list[ScriptTask]] = relationship(
        back_populates="day", cascade="all, delete-orphan", order_by="(ScriptTask.due_time, ScriptTask.id)"
    )

    @property
    def phase_label(self) -> str:
        return str(
            _l("%(phase)s 第%(day)d天/共%(days)d天", phase=self.phase_name, day=self.day_in_phase, days=self.phase_days)
        )


class TaskStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"

    @property
    def label(self) -> str:
        return str(
            {TaskStatus.PENDING: _l("待办"), TaskStatus.DONE: _l("已完成"), TaskStatus.SKIPPED: _l("已跳过")}[self]
        )


class ScriptTask(DealerOwned, db.Model):
    """One script item to post in a group on a day: copied from the version, filled when shown."""

    # How punctually each run's tasks get done (the board, the group page) is counted from this index alone.
    __table_args__ = (
        sa.Index("ix_script_task_run_progress", "dealer_id", "run_id", "day_id", "status", "finished_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("script_run.id", ondelete="CASCADE"), index=True)
    day_id: Mapped[int] = mapped_column(sa.ForeignKey("script_run_day.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(sa.String(16))
    due_time: Mapped[time]
    slot: Mapped[str] = mapped_column(sa.String(50), default="")
    role: Mapped[AccountRole] = mapped_column(enum_type(AccountRole, 12))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    kind: Mapped[ScriptKind] = mapped_column(enum_type(ScriptKind, 12))
    text: Mapped[str] = mapped_column(sa.Text)  # with placeholders, as the version has it
    intent: Mapped[str] = mapped_column(sa.Text, default="")
    images: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus, 10), default=TaskStatus.PENDING, index=True)
    sent_text: Mapped[str | None] = mapped_column(sa.Text)  # exactly what was posted
    skip_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The local date, to tell whether it was done on time (and, for HQ, whether the group is worked).
    finished_on: Mapped[date | None] = mapped_column(index=True)
    finished_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    run: Mapped[ScriptRun] = relationship()
    day: Mapped[ScriptRunDay] = relationship(back_populates="tasks")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])  # noqa: F821
    finished_by: Mapped[User | None] = relationship(foreign_keys=[finished_by_id])  # noqa: F821

    @property
    def due_on(self) -> date:
        return self.day.on_date

    @property
    def done_late(self) -> bool:
        return self.status == TaskStatus.DONE and self.finished_on is not None and self.finished_on > self.day.on_date


class RunEventKind(StrEnum):
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    SHIFTED = "shifted"
    DAY_SKIPPED = "day_skipped"
    REASSIGNED = "reassigned"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return str(
            {
                RunEventKind.STARTED: _l("开始"),
                RunEventKind.PAUSED: _l("暂停"),
                RunEventKind.RESUMED: _l("恢复"),
                RunEventKind.SHIFTED: _l("顺延"),
                RunEventKind.DAY_SKIPPED: _l("跳过一天"),
                RunEventKind.REASSIGNED: _l("换人"),
                RunEventKind.STOPPED: _l("停止"),
            }[self]
        )


class ScriptRunEvent(DealerOwned, db.Model):
    """What was done to a run's calendar, by whom and when (the run's history)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("script_run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RunEventKind] = mapped_column(enum_type(RunEventKind, 12))
    on_date: Mapped[date]
    days: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    run: Mapped[ScriptRun] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()  # noqa: F821
