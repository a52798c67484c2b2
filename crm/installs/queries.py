"""Reads for installation jobs: the list with where each job stands, one job with everything its page shows, the
people a step may name, and the orders that can be scheduled. Dealer scoping applies underneath every query."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session, selectinload

from crm.core.roles import Role
from crm.core.uploads import upload_root
from crm.groups.models import Group
from crm.installs.models import Defect, InspectionAttempt, InstallationJob, JobStatus, WarrantyItem
from crm.installs.service import INSPECTOR_ROLES, SCHEDULABLE
from crm.orders.models import Order
from crm.org.models import User
from crm.people.models import Person

MAX_NEIGHBOURS = 500  # a select beyond this is unusable; the nearest flats come first anyway


@dataclass
class JobFilters:
    status: JobStatus | None = None
    mine: bool = False

    @classmethod
    def from_args(cls, args) -> JobFilters:
        """Read filters from a query string, ignoring values that do not parse."""
        status = args.get("status", "")
        return cls(
            status=JobStatus(status) if status in {s.value for s in JobStatus} else None, mine=args.get("mine") == "1"
        )

    def as_args(self) -> dict:
        return {"status": self.status.value if self.status else None, "mine": "1" if self.mine else None}


def _job_options():
    return (
        selectinload(InstallationJob.order).selectinload(Order.person),
        selectinload(InstallationJob.order).selectinload(Order.estate),
        selectinload(InstallationJob.installers),
        selectinload(InstallationJob.attempts),
        selectinload(InstallationJob.defects),
    )


def jobs_query(filters: JobFilters, user: User) -> sa.Select:
    """Jobs to do first: open ones by scheduled date (unscheduled last), then accepted ones, latest first."""
    accepted = InstallationJob.status == JobStatus.ACCEPTED
    query = sa.select(InstallationJob).options(*_job_options())
    if filters.status:
        query = query.where(InstallationJob.status == filters.status)
    if filters.mine:
        query = query.where(InstallationJob.installers.any(User.id == user.id))
    return query.order_by(
        sa.case((accepted, 1), else_=0),
        sa.case((sa.and_(~accepted, InstallationJob.scheduled_on.is_(None)), 1), else_=0),
        sa.case((~accepted, InstallationJob.scheduled_on)),
        InstallationJob.accepted_at.desc(),
        InstallationJob.id,
    )


def load_job(session: Session, job_id: int) -> InstallationJob | None:
    """A job with its order (owner, estate, offer and promises), installers, attempts with photos, and defects."""
    return session.scalars(
        sa.select(InstallationJob)
        .where(InstallationJob.id == job_id)
        .options(
            selectinload(InstallationJob.order).selectinload(Order.person),
            selectinload(InstallationJob.order).selectinload(Order.estate),
            selectinload(InstallationJob.order).selectinload(Order.offer),
            selectinload(InstallationJob.installers),
            selectinload(InstallationJob.attempts).selectinload(InspectionAttempt.photos),
            selectinload(InstallationJob.defects),
        )
    ).first()


def warranty_items(session: Session, order_id: int) -> list[WarrantyItem]:
    """The order's warranty items with their claims."""
    return list(
        session.scalars(
            sa.select(WarrantyItem)
            .where(WarrantyItem.order_id == order_id)
            .options(selectinload(WarrantyItem.claims))
            .order_by(WarrantyItem.id)
        ).all()
    )


def user_names(session: Session, job: InstallationJob, items: list[WarrantyItem] = ()) -> dict[int, str]:
    """Names of the users who performed or recorded attempts, fixed defects or logged claims (one query)."""
    ids = {a.recorded_by_id for a in job.attempts} | {a.performer_user_id for a in job.attempts}
    ids |= {d.fixed_by_id for d in job.defects}
    ids |= {c.recorded_by_id for item in items for c in item.claims}
    ids.discard(None)
    if not ids:
        return {}
    return {user.id: user.name for user in session.scalars(sa.select(User).where(User.id.in_(ids))).all()}


def installer_choices(session: Session, dealer_id: int) -> list[User]:
    """The dealer's active installers."""
    users = session.scalars(
        sa.select(User).where(User.dealer_id == dealer_id, User.role == Role.INSTALLER).order_by(User.username)
    ).all()
    return [u for u in users if u.is_active_account]


def inspector_choices(session: Session, dealer_id: int) -> list[User]:
    """Who may lead a spot check: the dealer's active consultants and lead."""
    users = session.scalars(
        sa.select(User).where(User.dealer_id == dealer_id, User.role.in_(INSPECTOR_ROLES)).order_by(User.username)
    ).all()
    return [u for u in users if u.is_active_account]


def neighbour_choices(session: Session, job: InstallationJob) -> list[Person]:
    """People of the job's estate who may check as neighbours (everyone but the owner), by flat."""
    order = job.order
    return list(
        session.scalars(
            sa.select(Person)
            .where(Person.estate_id == order.estate_id, Person.id != order.person_id)
            .order_by(Person.building, Person.unit, Person.room, Person.name, Person.id)
            .limit(MAX_NEIGHBOURS)
        ).all()
    )


def group_names(session: Session, estate_id: int) -> list[str]:
    """Names of the estate's groups (where step 3 happens)."""
    return list(session.scalars(sa.select(Group.name).where(Group.estate_id == estate_id).order_by(Group.name)).all())


def schedulable_orders(session: Session) -> list[Order]:
    """Orders that may get an installation job: signed and not yet installed, without a job."""
    has_job = sa.select(InstallationJob.id).where(InstallationJob.order_id == Order.id).exists()
    return list(
        session.scalars(
            sa.select(Order)
            .where(Order.status.in_(SCHEDULABLE), ~has_job)
            .options(selectinload(Order.person), selectinload(Order.estate))
            .order_by(Order.install_on.is_(None), Order.install_on, Order.id)
        ).all()
    )


def defect_attempts(job: InstallationJob) -> dict[int, list[Defect]]:
    """Attempt id → the defects it found."""
    found: dict[int, list[Defect]] = {}
    for defect in job.defects:
        if defect.attempt_id is not None:
            found.setdefault(defect.attempt_id, []).append(defect)
    return found


def thumbnail_data_url(relative: str | None, max_edge: int = 480) -> str | None:
    """A stored image shrunk into a data: URL (for a fix photo or the signature, which have no route of their own)."""
    if not relative:
        return None
    return _thumbnail(str(upload_root() / relative), max_edge)


@lru_cache(maxsize=256)
def _thumbnail(path: str, max_edge: int) -> str | None:
    # Stored uploads never change (each has a new random name), so a shrunk copy can be kept.
    try:
        with Image.open(path) as image:
            image.thumbnail((max_edge, max_edge))
            keep_alpha = image.mode in ("RGBA", "LA", "P")
            buffer = io.BytesIO()
            if keep_alpha:
                image.save(buffer, format="PNG", optimize=True)
            else:
                image.convert("RGB").save(buffer, format="JPEG", quality=75)
    except (OSError, UnidentifiedImageError):
        return None
    mime = "image/png" if keep_alpha else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
