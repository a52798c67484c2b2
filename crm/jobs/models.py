"""Background jobs (后台任务): slow work (long PDFs, big imports, geocoding batches) run off the request.

The row is the truth about a job, whoever runs it (an RQ worker on any machine, or the request
itself when Redis is not configured): its status, progress, result file and error.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, UTCDateTime, enum_type, utcnow
from crm.extensions import db


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(
            {
                JobStatus.QUEUED: _l("排队中"),
                JobStatus.RUNNING: _l("进行中"),
                JobStatus.DONE: _l("已完成"),
                JobStatus.FAILED: _l("失败"),
            }[self]
        )

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


class BackgroundJob(DealerOwned, db.Model):
    """One piece of slow work asked for by a user; HQ's jobs have no dealer (dealers never see them)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dealer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(50))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh")
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus, 10), default=JobStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(default=0)  # 0–100
    message: Mapped[str] = mapped_column(sa.String(200), default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    ran_inline: Mapped[bool] = mapped_column(default=False)  # Redis was not there: the request did the work
    result_path: Mapped[str | None] = mapped_column(sa.String(255))  # under UPLOAD_FOLDER/jobs/
    result_name: Mapped[str] = mapped_column(sa.String(255), default="")
    result_mimetype: Mapped[str] = mapped_column(sa.String(100), default="")
    result_url: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")  # where to see what it did
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # last (re)submission
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User | None] = relationship()  # noqa: F821
