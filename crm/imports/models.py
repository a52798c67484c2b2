"""An uploaded estate list waiting for its columns to be mapped, previewed and applied."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime
from crm.extensions import db
from crm.maps.models import COORD_SYSTEM_TYPE, CoordSystem


class EstateImport(DealerOwned, TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    coord_system: Mapped[CoordSystem] = mapped_column(COORD_SYSTEM_TYPE, default=CoordSystem.WGS84)
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    stored_path: Mapped[str] = mapped_column(sa.String(255))  # under UPLOAD_FOLDER
    # Column header in the file → estate field ("" = ignore); filled from the headers, corrected by the user.
    column_mapping: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts of the applied run: {"added": n, "updated": n, "unchanged": n, "rejected": n}.
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    city: Mapped[City] = relationship()  # noqa: F821
